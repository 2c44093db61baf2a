//! Escalation prevention: a caller may grant only permissions it already holds at that scope.

use crate::authz::{Authorizer, Level};
use apimachinery::UserInfo;
use rbac::PolicyRule;

/// Why a grant was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The grant carries permissions the caller does not hold.
    #[error("{user:?} cannot grant permissions they do not hold at this scope: {missing}")]
    Escalation { user: String, missing: String },
    /// The caller tried to change their own roles.
    #[error("{user:?} cannot change their own roles; ask another administrator")]
    SelfGrant { user: String },
}

/// Refuses unless `user` holds every rule of `requested` at `level`.
pub fn check_grant(
    authz: &Authorizer,
    user: &UserInfo,
    level: &Level,
    requested: &[PolicyRule],
) -> Result<(), Refusal> {
    let held = authz.rules_at(user, level);
    match rbac::covers(&held, requested) {
        Ok(()) => Ok(()),
        Err(missing) => {
            let list: Vec<String> = rbac::compact_rules(&missing)
                .iter()
                .take(8)
                .map(|r| r.compact_string())
                .collect();
            Err(Refusal::Escalation {
                user: user.name.clone(),
                missing: list.join(", "),
            })
        }
    }
}

/// Refuses a binding of `subject_user` (to any role) made by `caller` on themself,
/// unless the caller is a platform administrator: editing one's own roles is how
/// KubeSphere's #2989 escalation worked.
pub fn check_not_self(
    authz: &Authorizer,
    caller: &UserInfo,
    subject_user: &str,
) -> Result<(), Refusal> {
    if caller.name == subject_user && !authz.is_platform_admin(caller) {
        return Err(Refusal::SelfGrant {
            user: caller.name.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{global_role_binding, global_roles, role_templates, workspace_roles};
    use crate::children::workspace_role_binding;

    fn authz() -> Authorizer {
        let a = Authorizer::new();
        {
            let mut idx = a.write();
            for t in role_templates() {
                idx.apply_template(&t);
            }
            for r in global_roles() {
                idx.apply_global_role(&r);
            }
            for r in workspace_roles("ws1") {
                idx.apply_workspace_role(&r);
            }
            idx.apply_global_role_binding(&global_role_binding("root", "platform-admin"));
            idx.apply_global_role_binding(&global_role_binding("sp", "platform-self-provisioner"));
            idx.apply_workspace_role_binding(&workspace_role_binding(
                "ws1",
                "wsadmin",
                "ws1-admin",
                None,
                None,
            ));
            idx.apply_workspace_role_binding(&workspace_role_binding(
                "ws1",
                "wsviewer",
                "ws1-viewer",
                None,
                None,
            ));
        }
        a
    }

    fn rules_of_role(a: &Authorizer, role: &str) -> Vec<PolicyRule> {
        let idx = a.read();
        if let Some(d) = idx.global_roles.get(role) {
            return idx.effective_rules(d);
        }
        idx.effective_rules(&idx.workspace_roles[role].1)
    }

    #[test]
    fn only_held_permissions_can_be_granted() {
        let a = authz();
        let admin_rules = rules_of_role(&a, "platform-admin");
        let viewer_rules = rules_of_role(&a, "ws1-viewer");
        let root = UserInfo::new("root", vec![]);
        let sp = UserInfo::new("sp", vec![]);
        let wsadmin = UserInfo::new("wsadmin", vec![]);
        let wsviewer = UserInfo::new("wsviewer", vec![]);
        assert!(check_grant(&a, &root, &Level::Global, &admin_rules).is_ok());
        let e = check_grant(&a, &sp, &Level::Global, &admin_rules).unwrap_err();
        assert!(e.to_string().contains("cannot grant"), "{e}");
        let ws = Level::Workspace("ws1".into());
        assert!(check_grant(&a, &wsadmin, &ws, &viewer_rules).is_ok());
        assert!(check_grant(&a, &wsviewer, &ws, &rules_of_role(&a, "ws1-admin")).is_err());
        assert!(check_grant(&a, &wsviewer, &ws, &viewer_rules).is_ok());
        // Workspace rights do not carry over to another workspace or the platform.
        assert!(check_grant(&a, &wsadmin, &Level::Workspace("ws2".into()), &viewer_rules).is_err());
        assert!(
            check_grant(
                &a,
                &wsadmin,
                &Level::Global,
                &rules_of_role(&a, "platform-self-provisioner")
            )
            .is_err()
        );
    }

    #[test]
    fn nobody_but_a_platform_admin_edits_their_own_roles() {
        let a = authz();
        assert!(check_not_self(&a, &UserInfo::new("wsadmin", vec![]), "wsadmin").is_err());
        assert!(check_not_self(&a, &UserInfo::new("wsadmin", vec![]), "other").is_ok());
        assert!(check_not_self(&a, &UserInfo::new("root", vec![]), "root").is_ok());
    }
}
