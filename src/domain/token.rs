//! Secrets handed to people: enrollment tokens (in QR codes), session tokens, recovery codes.
//! Each is random from the operating system; only hashes of session tokens and recovery codes
//! are stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

/// An enrollment code's token: 144 random bits as 24 URL-safe characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnrollmentToken(String);

impl EnrollmentToken {
    pub fn generate() -> EnrollmentToken {
        EnrollmentToken(URL_SAFE_NO_PAD.encode(random_bytes::<18>()))
    }

    /// Accepts only what `generate` could have made, so junk never reaches the database.
    pub fn parse(raw: &str) -> Option<EnrollmentToken> {
        let ok = raw.len() == 24
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| EnrollmentToken(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A session token: 256 random bits. The database keeps only its SHA-256.
pub struct SessionToken(pub String);

impl SessionToken {
    pub fn generate() -> SessionToken {
        SessionToken(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }

    pub fn hash(raw: &str) -> String {
        hex::encode(Sha256::digest(raw.as_bytes()))
    }

    /// Session tokens are 43 URL-safe characters; anything else is not worth a lookup.
    pub fn looks_valid(raw: &str) -> bool {
        raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

/// Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A recovery code: 80 random bits shown as `XXXX-XXXX-XXXX-XXXX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl RecoveryCode {
    pub fn generate() -> RecoveryCode {
        let bytes = random_bytes::<16>();
        let chars: String = bytes
            .iter()
            .map(|b| ALPHABET[usize::from(b % 32)] as char)
            .collect();
        RecoveryCode(format!(
            "{}-{}-{}-{}",
            &chars[0..4],
            &chars[4..8],
            &chars[8..12],
            &chars[12..16]
        ))
    }

    /// Normalises what a person typed: case, spaces and dashes do not matter; O reads as 0 and
    /// I or L as 1.
    pub fn parse(raw: &str) -> Option<RecoveryCode> {
        let mut chars = String::new();
        for c in raw.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            chars.push(c);
        }
        (chars.len() == 16).then(|| {
            RecoveryCode(format!(
                "{}-{}-{}-{}",
                &chars[0..4],
                &chars[4..8],
                &chars[8..12],
                &chars[12..16]
            ))
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database keeps instead of the code: a SHA-256 of its normalised form (80 random
    /// bits need no salt or slow hash). Migration m0008 computes the same for codes stored
    /// before it.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(format!("recovery:{}", self.0).as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn enrollment_tokens_are_long_random_and_url_safe() {
        let tokens: HashSet<String> = (0..1000).map(|_| EnrollmentToken::generate().0).collect();
        assert_eq!(tokens.len(), 1000);
        for token in &tokens {
            assert_eq!(token.len(), 24);
            assert!(EnrollmentToken::parse(token).is_some());
        }
        // Roughly uniform characters: each of the 64 symbols shows up.
        let symbols: HashSet<char> = tokens.iter().flat_map(|t| t.chars()).collect();
        assert_eq!(symbols.len(), 64);
        assert!(EnrollmentToken::parse("short").is_none());
        assert!(EnrollmentToken::parse("aaaaaaaaaaaaaaaaaaaaaaa/").is_none());
    }

    #[test]
    fn recovery_codes_forgive_typing() {
        let code = RecoveryCode::generate();
        let typed = code.as_str().to_lowercase().replace('-', " ");
        assert_eq!(RecoveryCode::parse(&typed), Some(code.clone()));
        assert_eq!(
            RecoveryCode::parse("oooo-iiii-llll-0000").unwrap().as_str(),
            "0000-1111-1111-0000"
        );
        assert!(RecoveryCode::parse("ABCD-EFGH").is_none());
        assert!(RecoveryCode::parse("ABCD-EFGH-JKMN-PQRU").is_none());
        assert_eq!(RecoveryCode::parse(&typed).unwrap().hash(), code.hash());
        assert_ne!(code.hash(), RecoveryCode::generate().hash());
    }

    #[test]
    fn session_tokens_hash_stably() {
        let token = SessionToken::generate();
        assert!(SessionToken::looks_valid(&token.0));
        assert_eq!(SessionToken::hash(&token.0), SessionToken::hash(&token.0));
        assert_ne!(SessionToken::hash(&token.0), token.0);
    }
}
