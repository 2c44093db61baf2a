//! External identity providers for the platform: LDAP and OIDC.
