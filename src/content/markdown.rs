//! Article Markdown to HTML, sanitised exactly the same way wherever it comes from.

/// Markdown to sanitised HTML: raw HTML in the source is removed, not trusted.
pub fn render_markdown(source: &str) -> String {
    let parser = pulldown_cmark::Parser::new(source);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}
