//! Password hashing (argon2id, with bcrypt hashes imported from KubeSphere accepted) and the password policy.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// argon2id memory cost in KiB. 19 MiB, 2 passes, 1 lane is OWASP's recommended
/// minimum for argon2id: about 20-40 ms per hash on one core, so a 2-core machine
/// still serves dozens of logins a second while an offline guess costs the same.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes over memory.
pub const ITERATIONS: u32 = 2;
/// argon2id lanes; one, because logins run in parallel on separate threads already.
pub const PARALLELISM: u32 = 1;

/// The shortest password the policy accepts.
pub const MIN_LENGTH: usize = 8;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The system random number generator failed to produce a salt.
    #[error("cannot generate a random salt: the system random number generator failed")]
    Random,
    /// argon2 rejected its input or parameters.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Why a password is not acceptable, in words for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Fewer than [`MIN_LENGTH`] characters.
    #[error("the password is too short: use at least {min} characters")]
    TooShort {
        /// The minimum length.
        min: usize,
    },
    /// The password is the username (compared without regard to case).
    #[error("the password must not be the same as the username")]
    SameAsUsername,
}

fn hasher() -> Argon2<'static> {
    // The constants are within argon2's bounds, so this never falls back in practice;
    // falling back to the crate defaults (also argon2id) is still safe.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `plain` with argon2id and a fresh random salt; returns the PHC string
/// (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`).
pub fn hash(plain: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| Error::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Hash(e.to_string()))?;
    hasher()
        .hash_password(plain.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|p| stored.starts_with(p))
}

/// Whether `plain` matches `stored`: an argon2 PHC string, or a bcrypt hash as
/// KubeSphere stores them. Anything else (empty, plain text, unknown scheme) never
/// matches, so a User imported without a hash cannot be logged into.
pub fn verify(plain: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        return bcrypt::verify(plain, stored).unwrap_or(false);
    }
    match PasswordHash::new(stored) {
        Ok(parsed) if parsed.algorithm.as_str().starts_with("argon2") => {
            // The parameters come from the stored hash, not from our constants, so
            // hashes made with older parameters still verify.
            Argon2::default()
                .verify_password(plain.as_bytes(), &parsed)
                .is_ok()
        }
        _ => false,
    }
}

/// Whether `stored` should be replaced by [`hash`] of the password after a
/// successful login: bcrypt hashes, other argon2 variants and weaker parameters.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" || parsed.hash.is_none() {
        return true;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    params.m_cost() < MEMORY_KIB || params.t_cost() < ITERATIONS
}

/// Whether `stored` looks like a hash this module produced or accepts; the users
/// API uses it to tell an already-hashed password from a plain one.
pub fn is_hashed(stored: &str) -> bool {
    is_bcrypt(stored)
        || PasswordHash::new(stored)
            .map(|p| p.algorithm.as_str().starts_with("argon2"))
            .unwrap_or(false)
}

/// Checks the password policy: at least [`MIN_LENGTH`] characters (not bytes) and
/// not the username.
pub fn check_policy(username: &str, plain: &str) -> Result<(), PolicyError> {
    if plain.chars().count() < MIN_LENGTH {
        return Err(PolicyError::TooShort { min: MIN_LENGTH });
    }
    if !username.is_empty() && plain.eq_ignore_ascii_case(username) {
        return Err(PolicyError::SameAsUsername);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(!needs_rehash(&h));
        assert!(is_hashed(&h));
        // Each hash has its own salt.
        assert_ne!(h, hash("correct horse").unwrap());
    }

    #[test]
    fn bcrypt_from_kubesphere_is_accepted_and_flagged_for_rehash() {
        let h = bcrypt::hash_with_result("P@88w0rd", 4)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert!(h.starts_with("$2a$04$"));
        assert!(verify("P@88w0rd", &h));
        assert!(!verify("P@88w0rD", &h));
        assert!(needs_rehash(&h));
        assert!(is_hashed(&h));
    }

    #[test]
    fn weaker_argon2_params_need_rehash_but_verify() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw-12345678", &salt)
        .unwrap()
        .to_string();
        assert!(verify("pw-12345678", &weak));
        assert!(needs_rehash(&weak));
    }

    #[test]
    fn garbage_never_verifies() {
        for stored in ["", "P@88w0rd", "$argon2id$garbage", "$2a$10$short"] {
            assert!(!verify("P@88w0rd", stored), "{stored}");
            assert!(needs_rehash(stored));
        }
        assert!(!is_hashed("P@88w0rd"));
    }

    #[test]
    fn policy() {
        assert_eq!(
            check_policy("alice", "short"),
            Err(PolicyError::TooShort { min: 8 })
        );
        assert_eq!(
            check_policy("alice123", "Alice123"),
            Err(PolicyError::SameAsUsername)
        );
        // Length counts characters, not bytes.
        assert!(check_policy("bob", "ééééééé").is_err());
        assert!(check_policy("bob", "éééééééé").is_ok());
        assert!(check_policy("alice", "a-long-passphrase").is_ok());
        assert_eq!(
            PolicyError::TooShort { min: 8 }.to_string(),
            "the password is too short: use at least 8 characters"
        );
    }
}
