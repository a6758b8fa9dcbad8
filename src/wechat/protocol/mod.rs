//! WeChat's wire protocol, with nothing of Homeward in it: callback and JS-SDK signatures,
//! safe-mode encryption, the XML of incoming messages and passive replies, and a client for
//! the server API and web sign-in whose base URLs are parameters.

pub mod client;
pub mod crypto;
pub mod ids;
pub mod message;
pub mod reply;
pub mod signature;
pub mod xml;

pub use client::{ApiClient, ApiConfig, ApiError};
pub use crypto::{AesKey, CryptoError, MessageCrypto};
pub use ids::{AccessToken, AppSecret, OpenId, SceneStr};
pub use message::{Event, Incoming, MessageKind};
pub use reply::{Article, Reply};
pub use xml::XmlError;
