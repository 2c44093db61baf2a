//! LoginRecords: one per login attempt, and the retention pass that keeps them within age and count limits.

use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, ResourceExt};
use std::collections::{BTreeMap, HashMap};

use crate::kinds::{LABEL_USER_REF, LoginRecord, LoginRecordSpec, LoginRecordType};

/// One attempt to record.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// The user (must be an existing User's name).
    pub username: &'a str,
    /// Token, OAuth or Password.
    pub kind: LoginRecordType,
    /// The identity provider, empty for local passwords.
    pub provider: &'a str,
    /// The client's address.
    pub source_ip: &'a str,
    /// The client's User-Agent.
    pub user_agent: &'a str,
    /// Whether it succeeded.
    pub success: bool,
    /// Why it failed.
    pub reason: &'a str,
}

/// Creates the LoginRecord `<username>-<random>` labelled with the user.
pub async fn record(api: &Api<LoginRecord>, a: Attempt<'_>) -> Result<(), kube::Error> {
    let suffix: String = crate::sessions::new_id().chars().take(10).collect();
    let mut name = format!("{}-{suffix}", a.username);
    // Object names are at most 253 characters.
    if name.len() > 253 {
        name = format!("login-{suffix}");
    }
    let rec = LoginRecord {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some(BTreeMap::from([(
                LABEL_USER_REF.to_string(),
                a.username.to_string(),
            )])),
            ..Default::default()
        },
        spec: LoginRecordSpec {
            type_: a.kind,
            provider: a.provider.to_string(),
            source_ip: a.source_ip.to_string(),
            user_agent: a.user_agent.chars().take(512).collect(),
            success: a.success,
            reason: a.reason.to_string(),
        },
    };
    api.create(&PostParams::default(), &rec).await?;
    Ok(())
}

fn created(r: &LoginRecord) -> i64 {
    r.metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .unwrap_or(0)
}

/// Deletes records older than `retention_secs` and, per user, all but the newest
/// `max_per_user`. Returns how many were deleted.
pub async fn enforce_retention(
    api: &Api<LoginRecord>,
    now: i64,
    retention_secs: i64,
    max_per_user: usize,
) -> Result<usize, kube::Error> {
    let mut by_user: HashMap<String, Vec<LoginRecord>> = HashMap::new();
    for r in api.list(&ListParams::default()).await?.items {
        let user = r.labels().get(LABEL_USER_REF).cloned().unwrap_or_default();
        by_user.entry(user).or_default().push(r);
    }
    let mut doomed = Vec::new();
    for (_, mut recs) in by_user {
        // Newest first; names break ties so the choice is stable.
        recs.sort_by(|a, b| {
            created(b)
                .cmp(&created(a))
                .then_with(|| b.name_any().cmp(&a.name_any()))
        });
        for (i, r) in recs.into_iter().enumerate() {
            if i >= max_per_user || created(&r) < now - retention_secs {
                doomed.push(r.name_any());
            }
        }
    }
    let mut n = 0;
    for name in doomed {
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => n += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
