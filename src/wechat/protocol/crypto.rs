//! Safe mode (安全模式): AES-256-CBC over `random(16) ‖ len(4, BE) ‖ xml ‖ appid`, with the key
//! from the 43-character EncodingAESKey, IV = the key's first 16 bytes and PKCS#7 padding to
//! 32-byte blocks. The appid is checked on the way in.

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// WeChat pads to 32 bytes, twice AES's block, so the padding is done here and the cipher runs
/// without its own.
const PAD_BLOCK: usize = 32;
const RANDOM_LEN: usize = 16;
const LEN_FIELD: usize = 4;

/// Most EncodingAESKeys (the documentation's sample too) end in a character whose low bits are
/// not zero, which strict decoders refuse.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the EncodingAESKey must be 43 characters long, not {0}")]
    Length(usize),
    #[error("the EncodingAESKey may only hold letters, digits, '+' and '/'")]
    Alphabet,
}

/// Why a safe-mode ciphertext was refused. None of these says anything about the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the ciphertext is not base64")]
    Base64,
    #[error("the ciphertext is not a whole number of AES blocks")]
    BlockLength,
    #[error("the decrypted message has invalid padding")]
    Padding,
    #[error("the decrypted message is too short or its length field is wrong")]
    Layout,
    #[error("the decrypted message is not UTF-8")]
    Utf8,
    #[error("the message is for another account (appid mismatch)")]
    WrongAppId,
}

/// The 32-byte AES key behind an EncodingAESKey. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 32]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(…)")
    }
}

impl AesKey {
    /// Parses the 43-character EncodingAESKey from the account's settings page.
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, KeyError> {
        let chars = encoding_aes_key.chars().count();
        if chars != 43 {
            return Err(KeyError::Length(chars));
        }
        if !encoding_aes_key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            return Err(KeyError::Alphabet);
        }
        let bytes = LENIENT
            .decode(format!("{encoding_aes_key}="))
            .map_err(|_| KeyError::Alphabet)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Length(chars))?;
        Ok(AesKey(key))
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// Encrypts and decrypts one account's messages.
#[derive(Debug, Clone)]
pub struct MessageCrypto {
    key: AesKey,
    appid: String,
}

impl MessageCrypto {
    pub fn new(key: AesKey, appid: impl Into<String>) -> Self {
        MessageCrypto {
            key,
            appid: appid.into(),
        }
    }

    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// Encrypts a reply (or, in tests, a message as WeChat would) with fresh random bytes;
    /// returns the base64 text that goes into `<Encrypt>`.
    pub fn encrypt(&self, xml: &str) -> String {
        let mut random = [0u8; RANDOM_LEN];
        getrandom::fill(&mut random).expect("the operating system's random source");
        self.encrypt_with_random(xml, &random)
    }

    /// Encrypts with given leading bytes, so tests can reproduce known vectors.
    pub fn encrypt_with_random(&self, xml: &str, random: &[u8; RANDOM_LEN]) -> String {
        let body_len = RANDOM_LEN + LEN_FIELD + xml.len() + self.appid.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK;
        let mut plain = Vec::with_capacity(body_len + pad);
        plain.extend_from_slice(random);
        let xml_len = u32::try_from(xml.len()).expect("a message far smaller than 4 GiB");
        plain.extend_from_slice(&xml_len.to_be_bytes());
        plain.extend_from_slice(xml.as_bytes());
        plain.extend_from_slice(self.appid.as_bytes());
        let pad_byte = u8::try_from(pad).expect("padding of at most 32");
        plain.resize(body_len + pad, pad_byte);

        let len = plain.len();
        let cipher = cbc::Encryptor::<Aes256>::new(&self.key.0.into(), &self.key.iv().into());
        let sealed = cipher
            .encrypt_padded::<NoPadding>(&mut plain, len)
            .expect("the plaintext was padded to whole blocks");
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    /// Decrypts the base64 text of an `<Encrypt>` element, checks its padding, layout and
    /// appid, and returns the XML inside.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptoError> {
        let mut data = base64::engine::general_purpose::STANDARD
            .decode(encrypted.trim())
            .map_err(|_| CryptoError::Base64)?;
        if data.is_empty() || data.len() % PAD_BLOCK != 0 {
            return Err(CryptoError::BlockLength);
        }
        let cipher = cbc::Decryptor::<Aes256>::new(&self.key.0.into(), &self.key.iv().into());
        let plain = cipher
            .decrypt_padded::<NoPadding>(&mut data)
            .map_err(|_| CryptoError::BlockLength)?;

        let pad = usize::from(*plain.last().ok_or(CryptoError::Padding)?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptoError::Padding);
        }
        let (body, padding) = plain.split_at(plain.len() - pad);
        if padding.iter().any(|&b| usize::from(b) != pad) {
            return Err(CryptoError::Padding);
        }
        if body.len() < RANDOM_LEN + LEN_FIELD {
            return Err(CryptoError::Layout);
        }
        let rest = &body[RANDOM_LEN..];
        let (len_field, rest) = rest.split_at(LEN_FIELD);
        let xml_len = u32::from_be_bytes(len_field.try_into().map_err(|_| CryptoError::Layout)?);
        let xml_len = usize::try_from(xml_len).map_err(|_| CryptoError::Layout)?;
        if xml_len > rest.len() {
            return Err(CryptoError::Layout);
        }
        let (xml, appid) = rest.split_at(xml_len);
        if appid != self.appid.as_bytes() {
            return Err(CryptoError::WrongAppId);
        }
        String::from_utf8(xml.to_vec()).map_err(|_| CryptoError::Utf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The documentation's sample account (消息加解密说明 and its Java sample's test).
    const SAMPLE_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const SAMPLE_APPID: &str = "wxb11529c136998cb6";
    const SAMPLE_RANDOM: &[u8; 16] = b"aaaabbbbccccdddd";
    const SAMPLE_TEXT: &str = "我是中文abcd123";
    const SAMPLE_ENCRYPTED: &str =
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
    const SAMPLE_XML2: &str = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
    const SAMPLE_ENCRYPTED2: &str = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

    fn sample() -> MessageCrypto {
        MessageCrypto::new(
            AesKey::from_encoding_aes_key(SAMPLE_KEY).unwrap(),
            SAMPLE_APPID,
        )
    }

    #[test]
    fn the_documented_samples_encrypt_to_their_known_ciphertexts() {
        let crypto = sample();
        assert_eq!(
            crypto.encrypt_with_random(SAMPLE_TEXT, SAMPLE_RANDOM),
            SAMPLE_ENCRYPTED
        );
        assert_eq!(
            crypto.encrypt_with_random(SAMPLE_XML2, SAMPLE_RANDOM),
            SAMPLE_ENCRYPTED2
        );
    }

    #[test]
    fn the_documented_samples_decrypt() {
        let crypto = sample();
        assert_eq!(crypto.decrypt(SAMPLE_ENCRYPTED).unwrap(), SAMPLE_TEXT);
        assert_eq!(crypto.decrypt(SAMPLE_ENCRYPTED2).unwrap(), SAMPLE_XML2);
    }

    #[test]
    fn wechat_works_documented_url_check_decrypts_under_its_own_id() {
        // WeChat Work's documentation uses the same scheme with a corp id in place of the appid.
        let crypto = MessageCrypto::new(
            AesKey::from_encoding_aes_key("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C").unwrap(),
            "wx5823bf96d3bd56c7",
        );
        let echo = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
        let plain = crypto.decrypt(echo).unwrap();
        assert!(!plain.is_empty() && plain.chars().all(|c| c.is_ascii_digit()));
        let other = MessageCrypto::new(crypto.key.clone(), "wx0000000000000000");
        assert_eq!(other.decrypt(echo), Err(CryptoError::WrongAppId));
    }

    #[test]
    fn round_trips_at_every_padding_length() {
        let crypto = sample();
        for n in 0..70 {
            let xml = format!("<xml>{}</xml>", "中".repeat(n % 7) + &"x".repeat(n));
            let sealed = crypto.encrypt(&xml);
            assert_eq!(crypto.decrypt(&sealed).unwrap(), xml);
        }
    }

    #[test]
    fn fresh_random_bytes_make_each_ciphertext_different() {
        let crypto = sample();
        assert_ne!(crypto.encrypt("<xml/>"), crypto.encrypt("<xml/>"));
    }

    #[test]
    fn another_accounts_message_is_refused() {
        let theirs = MessageCrypto::new(sample().key, "wx1111111111111111");
        let sealed = theirs.encrypt("<xml/>");
        assert_eq!(sample().decrypt(&sealed), Err(CryptoError::WrongAppId));
    }

    /// Encrypts raw plaintext blocks, to build ciphertexts WeChat would never send.
    fn seal_raw(plain: &[u8]) -> String {
        let crypto = sample();
        let mut buf = plain.to_vec();
        let len = buf.len();
        let cipher = cbc::Encryptor::<Aes256>::new(&crypto.key.0.into(), &crypto.key.iv().into());
        let sealed = cipher.encrypt_padded::<NoPadding>(&mut buf, len).unwrap();
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    #[test]
    fn bad_padding_and_bad_layout_are_refused() {
        let crypto = sample();
        let mut body = Vec::new();
        body.extend_from_slice(SAMPLE_RANDOM);
        body.extend_from_slice(&6u32.to_be_bytes());
        body.extend_from_slice(b"<xml/>");
        body.extend_from_slice(SAMPLE_APPID.as_bytes());
        let pad = 64 - body.len();
        let mut good = body.clone();
        good.resize(64, u8::try_from(pad).unwrap());
        assert_eq!(crypto.decrypt(&seal_raw(&good)).unwrap(), "<xml/>");

        let mut zero = body.clone();
        zero.resize(64, 0);
        assert_eq!(crypto.decrypt(&seal_raw(&zero)), Err(CryptoError::Padding));

        let mut too_big = body.clone();
        too_big.resize(64, 33);
        assert_eq!(
            crypto.decrypt(&seal_raw(&too_big)),
            Err(CryptoError::Padding)
        );

        let mut uneven = good.clone();
        uneven[60] ^= 1;
        assert_eq!(
            crypto.decrypt(&seal_raw(&uneven)),
            Err(CryptoError::Padding)
        );

        let mut long_length = good.clone();
        long_length[16..20].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(
            crypto.decrypt(&seal_raw(&long_length)),
            Err(CryptoError::Layout)
        );

        let mut tiny = vec![0u8; 16];
        tiny.resize(32, 16);
        assert_eq!(crypto.decrypt(&seal_raw(&tiny)), Err(CryptoError::Layout));
    }

    #[test]
    fn malformed_ciphertexts_are_refused() {
        let crypto = sample();
        assert_eq!(crypto.decrypt("not base64!"), Err(CryptoError::Base64));
        assert_eq!(crypto.decrypt(""), Err(CryptoError::BlockLength));
        assert_eq!(crypto.decrypt("AAAA"), Err(CryptoError::BlockLength));
        let sealed = crypto.encrypt("<xml/>");
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&sealed)
            .unwrap();
        bytes.truncate(16);
        let half = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(crypto.decrypt(&half), Err(CryptoError::BlockLength));
    }

    #[test]
    fn keys_are_43_base64_characters_and_never_shown() {
        assert_eq!(
            AesKey::from_encoding_aes_key("abc"),
            Err(KeyError::Length(3))
        );
        assert_eq!(
            AesKey::from_encoding_aes_key(&format!("{}=", &SAMPLE_KEY[..42])),
            Err(KeyError::Alphabet)
        );
        assert_eq!(
            AesKey::from_encoding_aes_key(&"é".repeat(43)),
            Err(KeyError::Alphabet)
        );
        let key = AesKey::from_encoding_aes_key(SAMPLE_KEY).unwrap();
        assert_eq!(format!("{key:?}"), "AesKey(…)");
        assert!(!format!("{:?}", sample()).contains("abcdef"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn crypto() -> MessageCrypto {
        MessageCrypto::new(
            AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap(),
            "wxb11529c136998cb6",
        )
    }

    proptest! {
        #[test]
        fn any_message_round_trips(xml in ".{0,300}") {
            let crypto = crypto();
            prop_assert_eq!(crypto.decrypt(&crypto.encrypt(&xml)).unwrap(), xml);
        }

        #[test]
        fn any_ciphertext_is_decrypted_or_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
            let _ = crypto().decrypt(&text);
        }
    }
}
