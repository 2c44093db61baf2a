//! Authentication for the platform: users' passwords, OAuth2 token endpoint, sessions and revocation, lockout, login records.

pub mod authcode;
mod authenticator;
pub mod clients;
pub mod clock;
pub mod jwt;
pub mod keys;
pub mod kinds;
pub mod lockout;
pub mod options;
pub mod password;
pub mod ratelimit;
pub mod records;
mod service;
pub mod sessions;
pub mod users;

pub use authenticator::Authenticator;
pub use kinds::{
    LoginRecord, LoginRecordSpec, LoginRecordType, User, UserSpec, UserState, UserStatus, crds,
};
pub use options::OAuthOptions;
pub use service::{Error, Identity, TokenResponse, run_controllers};
mod http;
pub mod login;

pub use http::router;
pub mod bootstrap;
