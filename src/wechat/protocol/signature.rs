//! WeChat's SHA-1 signatures: the callback's `signature`, safe mode's `msg_signature` and the
//! JS-SDK's, and comparing a received one in constant time.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// SHA-1 (lowercase hex) of the parts sorted byte-wise and joined without a separator, which is
/// how WeChat signs both the callback and safe-mode messages.
fn sorted_sha1(mut parts: Vec<&str>) -> String {
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The `signature` query parameter of every callback request: sorted `[token, timestamp, nonce]`.
pub fn callback_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1(vec![token, timestamp, nonce])
}

/// The safe-mode `msg_signature`: sorted `[token, timestamp, nonce, encrypt]`, where `encrypt`
/// is the base64 ciphertext of the envelope's `Encrypt` element.
pub fn message_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sorted_sha1(vec![token, timestamp, nonce, encrypt])
}

/// The JS-SDK `signature` for a page: the fields in WeChat's fixed order, and the page URL
/// without its `#fragment`.
pub fn jsapi_signature(ticket: &str, noncestr: &str, timestamp: &str, url: &str) -> String {
    let url = url.split('#').next().unwrap_or_default();
    let mut hasher = Sha1::new();
    hasher.update(
        format!("jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}")
            .as_bytes(),
    );
    hex::encode(hasher.finalize())
}

/// Whether a received hex signature is the expected one, without leaking through timing how
/// much of it was right. Hex case does not matter.
pub fn signatures_match(expected: &str, received: &str) -> bool {
    let received = received.trim().to_ascii_lowercase();
    expected.len() == received.len() && bool::from(expected.as_bytes().ct_eq(received.as_bytes()))
}

/// Checks the callback `signature` of a request.
pub fn verify_callback(token: &str, signature: &str, timestamp: &str, nonce: &str) -> bool {
    signatures_match(&callback_signature(token, timestamp, nonce), signature)
}

/// Checks the safe-mode `msg_signature` of a request (or of a reply).
pub fn verify_message(
    token: &str,
    msg_signature: &str,
    timestamp: &str,
    nonce: &str,
    encrypt: &str,
) -> bool {
    signatures_match(
        &message_signature(token, timestamp, nonce, encrypt),
        msg_signature,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The documentation's sample account and its encrypted sample message.
    const TOKEN: &str = "pamtest";
    const TIMESTAMP: &str = "1409304348";
    const NONCE: &str = "xxxxxx";
    const SAMPLE_ENCRYPT: &str =
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";

    #[test]
    fn the_documented_encrypted_sample_has_its_known_msg_signature() {
        // Computed independently: sha1 of the four sorted strings, joined.
        assert_eq!(
            message_signature(TOKEN, TIMESTAMP, NONCE, SAMPLE_ENCRYPT),
            "82c962d39941aa48552f90ef55aa323dc620cc10"
        );
    }

    #[test]
    fn the_callback_signature_sorts_before_hashing() {
        // sha1("1409304348pamtestxxxxxx"), the sorted concatenation.
        assert_eq!(
            callback_signature(TOKEN, TIMESTAMP, NONCE),
            callback_signature(NONCE, TOKEN, TIMESTAMP)
        );
        assert_eq!(
            callback_signature(TOKEN, TIMESTAMP, NONCE),
            "76480565cbe296026c53aaacd1ad523a1ddba24f"
        );
    }

    #[test]
    fn wechat_works_documented_url_check_vector_verifies() {
        // From WeChat Work's documentation (the same scheme): token QDG6eK.
        assert!(verify_message(
            "QDG6eK",
            "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
            "1409659589",
            "263014780",
            "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
        ));
        assert!(!verify_message(
            "QDG6eK",
            "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
            "1409659589",
            "263014781",
            "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
        ));
    }

    #[test]
    fn the_jsapi_signature_matches_the_documented_example() {
        // The JS-SDK documentation's worked example (附录1).
        assert_eq!(
            jsapi_signature(
                "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
                "Wm3WZYTPz0wzccnW",
                "1414587457",
                "http://mp.weixin.qq.com?params=value#top",
            ),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed"
        );
    }

    #[test]
    fn matching_is_exact_but_ignores_hex_case() {
        let good = callback_signature(TOKEN, TIMESTAMP, NONCE);
        assert!(verify_callback(TOKEN, &good, TIMESTAMP, NONCE));
        assert!(verify_callback(
            TOKEN,
            &good.to_uppercase(),
            TIMESTAMP,
            NONCE
        ));
        assert!(!verify_callback(TOKEN, &good[..39], TIMESTAMP, NONCE));
        assert!(!verify_callback(TOKEN, "", TIMESTAMP, NONCE));
        assert!(!verify_callback("other", &good, TIMESTAMP, NONCE));
        assert!(!verify_callback(TOKEN, &good, "1409304349", NONCE));
    }
}
