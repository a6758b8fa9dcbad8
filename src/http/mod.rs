//! The shared edge: what the HTML pages, the JSON API and the WeChat callback have in common —
//! the app state handlers see, sessions and cookies, CSRF, who is signed in (learners and
//! staff), the client address, rate limits, request ids, body limits, security headers, the
//! embedded assets and the mapping of errors to answers. It never imports `web` or `api`.

pub mod assets;
pub mod auth;
pub mod body;
pub mod client;
pub mod cookies;
pub mod deadline;
pub mod encoded;
pub mod error;
pub mod headers;
pub mod lang;
pub mod limits;
pub mod observe;
pub mod pending_openid;
pub mod read_deadline;
pub mod redirect;
pub mod staff_auth;
pub mod state;

pub use error::{AppError, from_db};
pub use state::AppState;
