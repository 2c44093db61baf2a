//! The error type shared by every identity provider, split by what the caller must do with it.

use http::StatusCode;

/// Why an identity provider could not produce an identity.
///
/// The split matters to the token endpoint: only [`IdpError::InvalidCredentials`] is the
/// user's fault and counts towards the login lockout; an unreachable or misconfigured
/// provider must not lock anybody out.
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The username is unknown, the password is wrong or empty. Reported as `invalid_grant`
    /// and counted by the lockout.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The authorization code, or the ID token it was exchanged for, was refused (expired,
    /// wrong audience, nonce or issuer, bad signature). Reported as `invalid_grant`; there is
    /// no local user to count it against.
    #[error("invalid grant: {0}")]
    InvalidGrant(String),
    /// The provider could not be reached or answered something unusable (network error,
    /// timeout, 5xx, malformed document). Reported as 503; not counted by the lockout.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The provider's configuration is invalid (missing field, bad CA, wrong manager
    /// password). Reported as a server error; not counted by the lockout.
    #[error("invalid identity provider configuration: {0}")]
    Config(String),
    /// The provider type is not one this build implements.
    #[error("unsupported identity provider type {0:?}")]
    UnsupportedType(String),
    /// The provider is configured with `disabled: true`.
    #[error("the identity provider {0:?} is disabled")]
    Disabled(String),
    /// No provider with this name is configured.
    #[error("the identity provider {0:?} was not found")]
    NotFound(String),
}

impl IdpError {
    /// True when the failure is the user's (wrong or empty password, unknown user): the
    /// only case the lockout counts.
    pub fn is_bad_credentials(&self) -> bool {
        matches!(self, IdpError::InvalidCredentials)
    }

    /// True when the provider, not the user, is at fault (network, timeout, bad answer).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, IdpError::Unavailable(_))
    }

    /// The OAuth2 `error` code (RFC 6749 section 5.2) to answer on `/oauth/token`.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            IdpError::InvalidCredentials | IdpError::InvalidGrant(_) => "invalid_grant",
            IdpError::Unavailable(_) => "temporarily_unavailable",
            IdpError::NotFound(_) | IdpError::Disabled(_) => "invalid_request",
            IdpError::Config(_) | IdpError::UnsupportedType(_) => "server_error",
        }
    }

    /// The HTTP status to answer with.
    pub fn http_status(&self) -> StatusCode {
        match self {
            IdpError::InvalidCredentials | IdpError::InvalidGrant(_) => StatusCode::BAD_REQUEST,
            IdpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            IdpError::NotFound(_) | IdpError::Disabled(_) => StatusCode::BAD_REQUEST,
            IdpError::Config(_) | IdpError::UnsupportedType(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Result with [`IdpError`].
pub type Result<T, E = IdpError> = std::result::Result<T, E>;
