//! Article Markdown to HTML, sanitised exactly the same way wherever it comes from; and an
//! article's sections (each starts at a top-level `##` heading), as HTML for the page and as
//! plain text to be read aloud.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

/// Markdown to sanitised HTML: raw HTML in the source is removed, not trusted.
pub fn render_markdown(source: &str) -> String {
    let parser = Parser::new(source);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}

/// The article's events split into sections: the text before the first top-level `##` heading
/// is the first section (when it has any), and each such heading starts a new one. Parsed once
/// for the whole article, so references and footnotes resolve across sections.
fn section_events(source: &str) -> Vec<Vec<Event<'_>>> {
    let mut sections: Vec<Vec<Event<'_>>> = vec![Vec::new()];
    let mut depth = 0usize;
    for event in Parser::new(source) {
        match &event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) if depth == 0 => {
                if !sections.last().is_some_and(Vec::is_empty) {
                    sections.push(Vec::new());
                }
                depth += 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        sections
            .last_mut()
            .expect("there is always a section")
            .push(event);
    }
    sections.retain(|events| !events.is_empty());
    sections
}

/// Each section of an article as sanitised HTML for the lesson page, which shows the lesson's
/// title as its own heading: a `#` heading that opens the article (its title again) is left out.
/// Otherwise, together they are the whole article.
pub fn render_sections(source: &str) -> Vec<String> {
    let mut sections = section_events(source);
    if let Some(first) = sections.first_mut() {
        drop_opening_title(first);
    }
    sections
        .into_iter()
        .map(|events| {
            let mut html = String::new();
            pulldown_cmark::html::push_html(&mut html, events.into_iter());
            ammonia::clean(&html)
        })
        .collect()
}

/// Removes a level-1 heading that is the very first thing in the article. The section stays
/// (maybe empty), so sections still match their recordings one to one.
fn drop_opening_title(events: &mut Vec<Event<'_>>) {
    let opens_with_title = matches!(
        events.first(),
        Some(Event::Start(Tag::Heading {
            level: HeadingLevel::H1,
            ..
        }))
    );
    if !opens_with_title {
        return;
    }
    if let Some(end) = events
        .iter()
        .position(|e| matches!(e, Event::End(TagEnd::Heading(HeadingLevel::H1))))
    {
        events.drain(..=end);
    }
}

/// How many sections an article has (what its audio list must match).
pub fn section_count(source: &str) -> usize {
    section_events(source).len()
}

/// Each section as the plain text a narrator reads: markup dropped, and every heading,
/// paragraph and list item ending as a sentence so the voice pauses there.
pub fn plain_sections(source: &str) -> Vec<String> {
    section_events(source)
        .into_iter()
        .map(|events| {
            let mut text = String::new();
            for event in events {
                match event {
                    Event::Text(t) | Event::Code(t) => text.push_str(&t),
                    Event::SoftBreak | Event::HardBreak => text.push(' '),
                    Event::End(TagEnd::Heading(_) | TagEnd::Paragraph | TagEnd::Item) => {
                        end_sentence(&mut text)
                    }
                    _ => {}
                }
            }
            text.trim().to_owned()
        })
        .collect()
}

/// Ends the text so far with a full stop unless it already ends with one.
fn end_sentence(text: &mut String) {
    let trimmed = text.trim_end();
    let Some(last) = trimmed.chars().last() else {
        return;
    };
    text.truncate(trimmed.len());
    if !"。！？；：.!?;:".contains(last) {
        // A Chinese sentence takes a full-width stop, anything else an ASCII one.
        text.push(if is_cjk(last) || "”）」".contains(last) {
            '。'
        } else {
            '.'
        });
    }
    text.push('\n');
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "# 标题\n\n开头一段\n\n## 第一节\n\n1. **多说谢谢**，少挑毛病\n2. 教老人用手机\n\n> ## 引用里的标题不分节\n\n## 第二节\n\n最后一段。\n";

    #[test]
    fn sections_start_at_top_level_second_level_headings() {
        assert_eq!(section_count(ARTICLE), 3);
        let html = render_sections(ARTICLE);
        // The page shows the title itself.
        assert!(html[0].starts_with("<p>开头一段</p>"), "{}", html[0]);
        assert!(html[1].starts_with("<h2>第一节</h2>"), "{}", html[1]);
        assert!(html[1].contains("<blockquote>"), "{}", html[1]);
        assert!(html[2].starts_with("<h2>第二节</h2>"));
        assert_eq!(
            format!("<h1>标题</h1>\n{}", html.concat()),
            render_markdown(ARTICLE)
        );
        assert_eq!(
            render_sections("# 只有标题\n\n## 第一节\n\n正文\n").len(),
            2
        );
        assert_eq!(section_count("## 直接开始\n\n正文\n"), 1);
        assert_eq!(section_count(""), 0);
    }

    #[test]
    fn plain_text_ends_every_block_as_a_sentence() {
        let text = plain_sections(ARTICLE);
        assert_eq!(text[0], "标题。\n开头一段。");
        assert_eq!(
            text[1],
            "第一节。\n多说谢谢，少挑毛病。\n教老人用手机。\n引用里的标题不分节。"
        );
        assert_eq!(
            plain_sections("## Say thanks\n\nKeep it *short*")[0],
            "Say thanks.\nKeep it short."
        );
    }
}
