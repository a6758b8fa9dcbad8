//! What the OpenAPI document and the router leave out of the API's contract: the 415 that every
//! operation with a body can answer, and the `Allow` header a 405 must carry (RFC 9110 §15.5.6).

use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use serde_json::{Value, json};

/// The document poem-openapi writes, with a 415 problem listed on every operation that takes a
/// body (poem-openapi answers one when the body is not JSON, but does not say so).
pub fn complete(spec: &str) -> String {
    let mut doc: Value = serde_json::from_str(spec).expect("poem-openapi writes JSON");
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in operation.values_mut() {
                if op.get("requestBody").is_none() {
                    continue;
                }
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    responses.insert(
                        "415".into(),
                        json!({
                            "description": "The body is not `application/json`.",
                            "content": {"application/problem+json": {
                                "schema": {"$ref": "#/components/schemas/Problem"}
                            }}
                        }),
                    );
                }
            }
        }
    }
    serde_json::to_string(&doc).expect("a JSON value serializes")
}

/// The methods the document lists for each path template, to answer a 405 with `Allow`.
pub struct Methods {
    paths: Vec<(Vec<String>, String)>,
}

impl Methods {
    pub fn from_spec(spec: &str) -> Methods {
        let doc: Value = serde_json::from_str(spec).expect("poem-openapi writes JSON");
        let mut paths = Vec::new();
        if let Some(all) = doc.get("paths").and_then(Value::as_object) {
            for (template, operations) in all {
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                if methods.iter().any(|m| m == "GET") {
                    methods.push("HEAD".into());
                }
                let segments = template.split('/').map(str::to_owned).collect();
                paths.push((segments, methods.join(", ")));
            }
        }
        Methods { paths }
    }

    /// The `Allow` value for a path under `/api/v1`, if the document knows it.
    pub fn allowed(&self, path: &str) -> Option<&str> {
        let segments: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .find(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| {
                        (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                    })
            })
            .map(|(_, allow)| allow.as_str())
    }
}

/// Adds `Allow` to the router's 405 (as problem+json, like every API error).
pub async fn allow_on_405<E: Endpoint>(
    next: E,
    req: Request,
    methods: &Methods,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    match next.call(req).await {
        Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => {
            let mut response = crate::http::error::problem_response(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("{method} is not allowed here; see the Allow header"),
            );
            if let Some(allow) = methods
                .allowed(&path)
                .and_then(|a| HeaderValue::from_str(a).ok())
            {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            Ok(response)
        }
        other => other.map(IntoResponse::into_response),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_methods_of_a_templated_path() {
        let spec = r#"{"paths": {"/me": {"get": {}, "patch": {}, "delete": {}},
            "/series/{series}/lessons/{lesson}/quiz": {"post": {}}}}"#;
        let methods = Methods::from_spec(spec);
        let mut me: Vec<&str> = methods.allowed("/me").unwrap().split(", ").collect();
        me.sort_unstable();
        assert_eq!(me, ["DELETE", "GET", "HEAD", "PATCH"]);
        assert_eq!(
            methods.allowed("/series/family/lessons/one/quiz"),
            Some("POST")
        );
        assert_eq!(methods.allowed("/series//lessons/one/quiz"), None);
        assert_eq!(methods.allowed("/nothing"), None);
    }
}
