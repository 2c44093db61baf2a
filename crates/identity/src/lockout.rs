//! Per-user login lockout, atomic across requests and replicas: an attempt is reserved on the User before the password is checked.
//!
//! The User carries the annotation `iam.kubesphere.io/login-attempts`: a
//! comma-separated list of `<unix seconds>:<id>` for every attempt within the
//! window that failed or is still being checked. An attempt is admitted only by a
//! successful update of the User conditioned on the resourceVersion it read (409 →
//! read again), so however many requests or replicas race, at most `max_tries`
//! attempts ever hold a reservation in one window. A success removes its own
//! reservation; a failure leaves it as the failure record.

use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};

use crate::clock::k8s_time;
use crate::kinds::{ANNOTATION_LOGIN_ATTEMPTS, User, UserState};

/// How many times a reservation is retried on conflicts before giving up (the
/// request then gets 429, which errs on the side of refusing).
const MAX_CONFLICT_RETRIES: usize = 64;

/// The lockout parameters (KubeSphere's `authenticateRateLimiterMaxTries` and `...Duration`).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures allowed within the window.
    pub max_tries: usize,
    /// The window, seconds.
    pub window_secs: i64,
}

/// Errors of the lockout.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user does not exist.
    #[error("user not found")]
    NotFound,
    /// The window already holds `max_tries` attempts.
    #[error("auth rate limit exceeded")]
    Locked,
    /// The cluster kept conflicting or failed.
    #[error("cannot record the login attempt: {0}")]
    Kube(#[from] kube::Error),
    /// Too many conflicting writers.
    #[error("cannot record the login attempt: too much contention")]
    Contention,
}

/// Parses the annotation; malformed entries are dropped.
pub fn parse(v: &str) -> Vec<(i64, String)> {
    v.split(',')
        .filter_map(|e| {
            let (t, id) = e.split_once(':')?;
            Some((t.trim().parse().ok()?, id.trim().to_string()))
        })
        .collect()
}

/// Formats entries back into the annotation.
pub fn format(entries: &[(i64, String)]) -> String {
    entries
        .iter()
        .map(|(t, id)| format!("{t}:{id}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The entries still inside the window at `now`.
pub fn in_window(entries: Vec<(i64, String)>, now: i64, window_secs: i64) -> Vec<(i64, String)> {
    entries
        .into_iter()
        .filter(|(t, _)| *t > now - window_secs)
        .collect()
}

fn attempts(u: &User, now: i64, p: Policy) -> Vec<(i64, String)> {
    let raw = u
        .annotations()
        .get(ANNOTATION_LOGIN_ATTEMPTS)
        .map(|s| parse(s))
        .unwrap_or_default();
    in_window(raw, now, p.window_secs)
}

fn set_attempts(u: &mut User, entries: &[(i64, String)]) {
    let a = u.annotations_mut();
    if entries.is_empty() {
        a.remove(ANNOTATION_LOGIN_ATTEMPTS);
    } else {
        a.insert(ANNOTATION_LOGIN_ATTEMPTS.into(), format(entries));
    }
}

/// Reserves one attempt for `username`, or fails with [`Error::Locked`]. Returns
/// the User as stored after the reservation.
pub async fn reserve(
    api: &Api<User>,
    username: &str,
    id: &str,
    now: i64,
    p: Policy,
) -> Result<User, Error> {
    for _ in 0..MAX_CONFLICT_RETRIES {
        let mut u = api.get_opt(username).await?.ok_or(Error::NotFound)?;
        let mut entries = attempts(&u, now, p);
        if entries.len() >= p.max_tries {
            if u.state() != UserState::AuthLimitExceeded {
                set_state(api, username, UserState::AuthLimitExceeded, now).await?;
            }
            return Err(Error::Locked);
        }
        entries.push((now, id.to_string()));
        set_attempts(&mut u, &entries);
        match api.replace(username, &PostParams::default(), &u).await {
            Ok(u) => return Ok(u),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(kube::Error::Api(s)) if s.code == 404 => return Err(Error::NotFound),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Contention)
}

/// Settles a successful attempt: removes its reservation and, when given, stores
/// a new password hash in the same update (bcrypt → argon2id re-hash).
pub async fn release(
    api: &Api<User>,
    username: &str,
    id: &str,
    now: i64,
    p: Policy,
    new_hash: Option<&str>,
) -> Result<User, Error> {
    for _ in 0..MAX_CONFLICT_RETRIES {
        let mut u = api.get_opt(username).await?.ok_or(Error::NotFound)?;
        let entries: Vec<_> = attempts(&u, now, p)
            .into_iter()
            .filter(|(_, e)| e != id)
            .collect();
        set_attempts(&mut u, &entries);
        if let Some(h) = new_hash {
            u.spec.password = Some(h.to_string());
        }
        match api.replace(username, &PostParams::default(), &u).await {
            Ok(u) => return Ok(u),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Contention)
}

/// Settles a failed attempt: its reservation stays as the failure; when the
/// window is now full the User becomes AuthLimitExceeded. Returns whether it did.
pub async fn record_failure(
    api: &Api<User>,
    username: &str,
    now: i64,
    p: Policy,
) -> Result<bool, Error> {
    let Some(u) = api.get_opt(username).await? else {
        return Ok(false);
    };
    if attempts(&u, now, p).len() >= p.max_tries {
        if u.state() != UserState::AuthLimitExceeded {
            set_state(api, username, UserState::AuthLimitExceeded, now).await?;
        }
        return Ok(true);
    }
    Ok(false)
}

/// Sets `status.state` (with `lastTransitionTime` and a reason).
pub async fn set_state(
    api: &Api<User>,
    username: &str,
    state: UserState,
    now: i64,
) -> Result<(), kube::Error> {
    let reason = match state {
        UserState::AuthLimitExceeded => "too many failed login attempts",
        UserState::Active => "",
        UserState::Disabled => "disabled",
    };
    let patch = serde_json::json!({"status": {
        "state": state,
        "reason": if reason.is_empty() { serde_json::Value::Null } else { reason.into() },
        "lastTransitionTime": k8s_time(now),
    }});
    api.patch_status(username, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// The lockout controller's pass: every AuthLimitExceeded user whose window has
/// drained below the limit becomes Active again. Returns the users unlocked.
pub async fn unlock_expired(api: &Api<User>, now: i64, p: Policy) -> Result<Vec<String>, Error> {
    let mut unlocked = Vec::new();
    for u in api.list(&ListParams::default()).await?.items {
        if u.state() != UserState::AuthLimitExceeded {
            continue;
        }
        if attempts(&u, now, p).len() < p.max_tries {
            let name = u.name_any();
            set_state(api, &name, UserState::Active, now).await?;
            unlocked.push(name);
        }
    }
    Ok(unlocked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_round_trip_and_window() {
        let e = parse("100:a, 200:b,garbage,300:c");
        assert_eq!(e.len(), 3);
        assert_eq!(format(&e), "100:a,200:b,300:c");
        // The window is half-open: an attempt exactly `window` old has left it.
        assert_eq!(in_window(e, 1200, 1000), vec![(300, "c".to_string())]);
    }
}
