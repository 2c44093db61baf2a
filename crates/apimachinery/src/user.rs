//! The authenticated identity of a request, as Kubernetes' `user.Info` carries it.

use std::collections::BTreeMap;

/// Who is making a request. Put into request extensions by whatever authenticated it
/// (TLS client certificate, bearer token, impersonation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    pub fn new(name: impl Into<String>, groups: Vec<String>) -> Self {
        UserInfo {
            name: name.into(),
            groups,
            ..Default::default()
        }
    }

    /// The identity the kernel's own internal controllers act as.
    pub fn system() -> Self {
        UserInfo::new(
            "system:apiserver",
            vec!["system:masters".into(), "system:authenticated".into()],
        )
    }

    pub fn in_group(&self, g: &str) -> bool {
        self.groups.iter().any(|x| x == g)
    }
}
