//! The public API surface is snapshot-tested: any change to it is a visible diff.

#[test]
fn openapi_document_matches_the_snapshot() {
    let mut settings = homeward::settings::Settings::with_database("sqlite::memory:");
    settings.public_url = Some("https://homeward.example".into());
    let spec: serde_json::Value =
        serde_json::from_str(&homeward::api::spec_json(&settings)).unwrap();
    insta::assert_json_snapshot!("openapi", spec);
}
