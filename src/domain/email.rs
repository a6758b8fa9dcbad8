//! Staff email addresses: the plain `local@domain` shape every mail system accepts, so an
//! address can never carry markup, a display name or a second address.

/// Checks and normalises (trims, lower-cases) an email address. The local part may use the
/// characters RFC 5322 allows unquoted; the domain needs at least two labels of letters, digits
/// and hyphens.
pub fn parse_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let invalid = || format!("email: '{}' is not an email address", raw.trim());
    if email.len() > 200 {
        return Err("email: at most 200 characters".into());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_email;

    #[test]
    fn accepts_ordinary_addresses() {
        assert_eq!(
            parse_email("  Li.Wei+ngo@Example.ORG ").unwrap(),
            "li.wei+ngo@example.org"
        );
        assert!(parse_email("o'brien@mail.example.cn").is_ok());
        assert!(parse_email("12345@qq.com").is_ok());
    }

    #[test]
    fn refuses_markup_and_odd_shapes() {
        for raw in [
            "\"><img src=x onerror=alert(1)>@example.com",
            "<script>@example.com",
            "a b@example.com",
            "a@b@example.com",
            "\"quoted\"@example.com",
            "Li Wei <li@example.com>",
            "li@example",
            "li@-example.com",
            "li@example..com",
            ".li@example.com",
            "li..wei@example.com",
            "@example.com",
            "li@",
            "li",
            "",
        ] {
            assert!(parse_email(raw).is_err(), "{raw:?}");
        }
    }
}
