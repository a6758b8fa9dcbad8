//! The client's address, for rate limits: the socket's peer, or, when `HOMEWARD_TRUST_PROXY`
//! says a proxy we run stands in front, the address that proxy wrote last in `X-Forwarded-For`.

use std::net::IpAddr;

use poem::Request;

use super::AppState;

/// The client's address, for rate limits.
pub fn client_ip(state: &AppState, req: &Request) -> String {
    if state.settings.trust_proxy {
        let headers = req.headers().get_all("x-forwarded-for");
        let values = headers.iter().filter_map(|v| v.to_str().ok());
        if let Some(address) = forwarded_client(values) {
            return address.to_string();
        }
    }
    match req.remote_addr().as_socket_addr() {
        Some(addr) => addr.ip().to_string(),
        None => "unknown".into(),
    }
}

/// The last entry of the last `X-Forwarded-For` header: the one our proxy added (or wrote
/// alone). Entries before it came from the client and prove nothing. `None` unless it is an IP
/// address.
pub fn forwarded_client<'a>(values: impl Iterator<Item = &'a str>) -> Option<IpAddr> {
    let last = values.last()?.rsplit(',').next()?.trim();
    last.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;

    fn client(values: &[&str]) -> Option<String> {
        forwarded_client(values.iter().copied()).map(|ip| ip.to_string())
    }

    #[test]
    fn the_proxys_entry_wins_over_what_the_client_wrote() {
        assert_eq!(client(&["203.0.113.7"]).as_deref(), Some("203.0.113.7"));
        assert_eq!(
            client(&["198.51.100.1, 203.0.113.7"]).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client(&["198.51.100.1", "10.0.0.2,203.0.113.7 "]).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(client(&["2001:db8::1"]).as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn anything_but_an_address_is_ignored() {
        assert_eq!(client(&[]), None);
        assert_eq!(client(&[""]), None);
        assert_eq!(client(&["203.0.113.7, "]), None);
        assert_eq!(client(&["unknown"]), None);
        assert_eq!(client(&["203.0.113.7, x".repeat(100).as_str()]), None);
    }
}
