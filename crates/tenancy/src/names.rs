//! KubeSphere's label and annotation keys, built-in role names and the names of derived objects.

/// Namespace → workspace label; also on WorkspaceRoles, WorkspaceRoleBindings and Groups.
pub const WORKSPACE_LABEL: &str = "kubesphere.io/workspace";
pub const ALIAS_NAME: &str = "kubesphere.io/alias-name";
pub const DESCRIPTION: &str = "kubesphere.io/description";
pub const CREATOR: &str = "kubesphere.io/creator";
/// The scope of a role template or built-in role: `global|cluster|workspace|namespace`.
pub const SCOPE_LABEL: &str = "iam.kubesphere.io/scope";
pub const CATEGORY_LABEL: &str = "iam.kubesphere.io/category";
pub const ROLE_TEMPLATE_LABEL: &str = "iam.kubesphere.io/role-template";
/// On every binding: the user it grants to, so a user's bindings can be found and removed.
pub const USER_REF_LABEL: &str = "iam.kubesphere.io/user-ref";
pub const GROUP_REF_LABEL: &str = "iam.kubesphere.io/group-ref";
pub const ROLE_REF_LABEL: &str = "iam.kubesphere.io/role-ref";
/// The users API's way of setting a user's global role.
pub const GLOBALROLE_ANNOTATION: &str = "iam.kubesphere.io/globalrole";
pub const DISPLAY_NAME_EN: &str = "kubesphere.io/alias-name";
pub const DISPLAY_NAME_ZH: &str = "kubesphere.io/alias-name-zh";
/// Marks objects this crate derives, so orphans can be found and deleted.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "ferrosphere-tenancy";
/// Which source object a derived object belongs to (`<kind>.<name>`).
pub const SOURCE_LABEL: &str = "tenancy.ferrosphere.io/source";
/// The field manager server-side apply uses for derived objects.
pub const FIELD_MANAGER: &str = "ferrosphere-tenancy";

pub const IAM_GROUP: &str = "iam.kubesphere.io";
pub const TENANT_GROUP: &str = "tenant.kubesphere.io";
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub const PLATFORM_ADMIN: &str = "platform-admin";
pub const PLATFORM_REGULAR: &str = "platform-regular";
pub const PLATFORM_SELF_PROVISIONER: &str = "platform-self-provisioner";
pub const AUTHENTICATED: &str = "authenticated";
pub const ANONYMOUS: &str = "anonymous";
pub const CLUSTER_ADMIN: &str = "cluster-admin";
pub const CLUSTER_VIEWER: &str = "cluster-viewer";

/// The built-in workspace roles, instantiated as `<ws>-<role>`.
pub const WORKSPACE_ROLES: [&str; 4] = ["admin", "regular", "viewer", "self-provisioner"];
/// The built-in project roles, Kubernetes Roles in every project.
pub const PROJECT_ROLES: [&str; 3] = ["admin", "operator", "viewer"];

/// `<ws>-<role>`, KubeSphere's name for a workspace's built-in role.
pub fn workspace_role(ws: &str, role: &str) -> String {
    format!("{ws}-{role}")
}

/// The name the members APIs give a binding of `user` to `role`.
pub fn binding(user: &str, role: &str) -> String {
    format!("{user}-{role}")
}

/// The Kubernetes ClusterRole carrying a GlobalRole's rules.
pub fn global_cluster_role(role: &str) -> String {
    format!("kubesphere:globalrole:{role}")
}

/// The Kubernetes ClusterRoleBinding a GlobalRoleBinding maps to.
pub fn global_cluster_role_binding(binding: &str) -> String {
    format!("kubesphere:globalrolebinding:{binding}")
}

/// The Kubernetes ClusterRole carrying a WorkspaceRole's rules, bound in each project.
pub fn workspace_cluster_role(role: &str) -> String {
    format!("kubesphere:workspacerole:{role}")
}

/// The Kubernetes ClusterRole with the cluster-scoped part of a WorkspaceRole (its own Workspace object, creating projects).
pub fn workspace_scope_cluster_role(role: &str) -> String {
    format!("kubesphere:workspacerole-cluster:{role}")
}

/// The Kubernetes RoleBinding (in each project) and ClusterRoleBinding a WorkspaceRoleBinding maps to.
pub fn workspace_role_binding_k8s(binding: &str) -> String {
    format!("kubesphere:workspacerolebinding:{binding}")
}

/// Whether `ws` and `name` are valid DNS-1123 labels (workspace, user and project names).
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}
