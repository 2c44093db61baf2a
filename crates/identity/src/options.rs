//! The authentication options (KubeSphere's `authentication` section), with KubeSphere's defaults.

use serde::{Deserialize, Serialize};

/// How logins, tokens and lockout behave. Durations are whole seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthOptions {
    /// The `iss` claim and OIDC issuer; a URL when external OIDC clients use us.
    pub issuer: String,
    /// Access token lifetime (KubeSphere `accessTokenMaxAge`, 2 h).
    pub access_token_max_age_secs: i64,
    /// Refresh token and session lifetime.
    pub refresh_token_max_age_secs: i64,
    /// false: a new login revokes the user's earlier sessions (v4 default true).
    pub multiple_login: bool,
    /// Failures allowed within the lockout window (`authenticateRateLimiterMaxTries`).
    pub authenticate_rate_limiter_max_tries: usize,
    /// The lockout window (`authenticateRateLimiterDuration`, 30 min).
    pub authenticate_rate_limiter_duration_secs: i64,
    /// LoginRecords older than this are deleted (`loginHistoryRetentionPeriod`, 168 h).
    pub login_history_retention_period_secs: i64,
    /// LoginRecords kept per user (`loginHistoryMaximumEntries`, 100).
    pub login_history_maximum_entries: usize,
    /// Per-source-IP burst of token requests.
    pub ip_rate_limit_burst: u32,
    /// Per-source-IP sustained token requests per minute.
    pub ip_rate_limit_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl Default for OAuthOptions {
    fn default() -> Self {
        OAuthOptions {
            issuer: "kubesphere".into(),
            access_token_max_age_secs: 2 * 3600,
            refresh_token_max_age_secs: 24 * 3600,
            multiple_login: true,
            authenticate_rate_limiter_max_tries: 5,
            authenticate_rate_limiter_duration_secs: 30 * 60,
            login_history_retention_period_secs: 168 * 3600,
            login_history_maximum_entries: 100,
            ip_rate_limit_burst: 300,
            ip_rate_limit_per_minute: 600,
            trust_forwarded_for: false,
        }
    }
}

impl OAuthOptions {
    /// The lockout policy these options describe.
    pub fn lockout(&self) -> crate::lockout::Policy {
        crate::lockout::Policy {
            max_tries: self.authenticate_rate_limiter_max_tries.max(1),
            window_secs: self.authenticate_rate_limiter_duration_secs.max(1),
        }
    }
}
