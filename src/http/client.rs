//! The client's address, for rate limits: the socket's peer, or the first `X-Forwarded-For`
//! entry when `HOMEWARD_TRUST_PROXY` says a proxy we run put it there.

use poem::Request;

use super::AppState;

/// The client's address, for rate limits.
pub fn client_ip(state: &AppState, req: &Request) -> String {
    let forwarded = req
        .header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(forwarded) = forwarded.filter(|_| state.settings.trust_proxy) {
        return forwarded.to_owned();
    }
    match req.remote_addr().as_socket_addr() {
        Some(addr) => addr.ip().to_string(),
        None => "unknown".into(),
    }
}
