//! Authentication for the platform: users' passwords, OAuth2 token endpoint, sessions and revocation, lockout, login records.
