//! The tenancy controllers: workspace templates, workspaces, projects, role and binding mappings to Kubernetes RBAC, and user cleanup.

mod apply;
mod users;

pub use apply::{ScopeApi, apply_one, delete_labelled, reconcile_children};
pub use users::{remove_user_bindings, user_resource};

use crate::authz::Authorizer;
use crate::children;
use crate::kinds::{
    GlobalRole, GlobalRoleBinding, Workspace, WorkspaceRole, WorkspaceRoleBinding,
    WorkspaceTemplate,
};
use crate::names;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why a reconcile failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused a read or write.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// Installing the built-in objects failed.
    #[error(transparent)]
    Bootstrap(#[from] crate::bootstrap::Error),
}

/// Shared by every reconciler.
pub struct Context {
    pub client: Client,
    pub authz: Authorizer,
}

/// Re-reads sources periodically so changes in role templates (which no source watches)
/// reach derived roles.
const RESYNC: Duration = Duration::from_secs(300);

fn retry<K>(_: Arc<K>, err: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "tenancy reconcile failed; retrying");
    Action::requeue(Duration::from_secs(2))
}

fn deleting<K: Resource>(o: &K) -> bool {
    o.meta().deletion_timestamp.is_some()
}

async fn workspace_template(t: Arc<WorkspaceTemplate>, ctx: Arc<Context>) -> Result<Action, Error> {
    if !deleting(t.as_ref()) {
        apply_one(&ctx.client, &children::workspace_of_template(&t)).await?;
    }
    Ok(Action::requeue(RESYNC))
}

async fn workspace(ws: Arc<Workspace>, ctx: Arc<Context>) -> Result<Action, Error> {
    if deleting(ws.as_ref()) {
        return Ok(Action::await_change());
    }
    let (roles, bindings) = children::workspace_children(&ws);
    let source = children::source_label("workspace", &ws.name_any());
    reconcile_children(&ctx.client, &source, &roles).await?;
    reconcile_children(&ctx.client, &source, &bindings).await?;
    Ok(Action::requeue(RESYNC))
}

async fn project(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, Error> {
    if deleting(ns.as_ref()) {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let ws_name = ns
        .labels()
        .get(names::WORKSPACE_LABEL)
        .cloned()
        .unwrap_or_default();
    let ours = |o: &&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference| {
        o.kind == "Workspace" && o.api_version.starts_with(names::TENANT_GROUP)
    };
    let has_ws_owner = ns.owner_references().iter().any(|o| ours(&o));
    if ws_name.is_empty() {
        if has_ws_owner {
            // The label was removed: detach the project so deleting the workspace spares it.
            set_namespace_owner(&ctx.client, &name, None).await?;
        }
        return Ok(Action::await_change());
    }
    let (roles, bindings) = children::project_children(&ns);
    let source = children::source_label("project", &name);
    reconcile_children(&ctx.client, &source, &roles).await?;
    reconcile_children(&ctx.client, &source, &bindings).await?;
    let wss: Api<Workspace> = Api::all(ctx.client.clone());
    if let Some(ws) = wss.get_opt(&ws_name).await? {
        let wanted = children::project_owner(&ws);
        let current = ns
            .owner_references()
            .iter()
            .find(|o| ours(o))
            .map(|o| o.uid.clone());
        if current != wanted.as_ref().map(|o| o.uid.clone()) {
            set_namespace_owner(&ctx.client, &name, wanted).await?;
        }
    }
    Ok(Action::requeue(RESYNC))
}

async fn set_namespace_owner(
    client: &Client,
    name: &str,
    owner: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "ownerReferences": owner.map(|o| vec![o]).unwrap_or_default()},
    });
    api.patch(
        name,
        &PatchParams::apply(&format!("{}-owner", names::FIELD_MANAGER)).force(),
        &Patch::Apply(&body),
    )
    .await
    .map(|_| ())
}

async fn global_role(r: Arc<GlobalRole>, ctx: Arc<Context>) -> Result<Action, Error> {
    if !deleting(r.as_ref()) {
        let cr = children::global_role_cluster_role(&r, &ctx.authz.read());
        apply_one(&ctx.client, &cr).await?;
    }
    Ok(Action::requeue(RESYNC))
}

async fn global_role_binding(
    b: Arc<GlobalRoleBinding>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    if !deleting(b.as_ref()) {
        apply_one(&ctx.client, &children::global_binding_cluster_binding(&b)).await?;
    }
    Ok(Action::requeue(RESYNC))
}

async fn workspace_role(r: Arc<WorkspaceRole>, ctx: Arc<Context>) -> Result<Action, Error> {
    if !deleting(r.as_ref()) {
        let crs = children::workspace_role_cluster_roles(&r, &ctx.authz.read());
        let source = children::source_label("workspacerole", &r.name_any());
        reconcile_children(&ctx.client, &source, &crs).await?;
    }
    Ok(Action::requeue(RESYNC))
}

async fn workspace_role_binding(
    b: Arc<WorkspaceRoleBinding>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    if deleting(b.as_ref()) {
        return Ok(Action::await_change());
    }
    let ws = b
        .labels()
        .get(names::WORKSPACE_LABEL)
        .cloned()
        .unwrap_or_default();
    let projects: Vec<String> = ctx
        .authz
        .read()
        .workspace_namespaces
        .get(&ws)
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    let (rbs, crb) = children::workspace_binding_k8s(&b, &projects);
    let source = children::source_label("workspacerolebinding", &b.name_any());
    reconcile_children(&ctx.client, &source, &rbs).await?;
    reconcile_children(&ctx.client, &source, &[crb]).await?;
    Ok(Action::requeue(RESYNC))
}

macro_rules! run {
    ($ctrl:expr, $reconcile:expr, $ctx:expr, $cancel:expr) => {
        $ctrl
            .graceful_shutdown_on($cancel.clone().cancelled_owned())
            .run($reconcile, retry, $ctx.clone())
            .for_each(|_| futures::future::ready(()))
    };
}

/// Runs the authorizer's feed and every tenancy controller until `cancel` fires. The
/// same `authz` must be given to [`crate::api::router`], so decisions and derived RBAC
/// come from one index. Installs the CRDs and built-in objects first.
pub async fn run_controllers(
    client: Client,
    authz: Authorizer,
    cancel: CancellationToken,
) -> Result<(), Error> {
    crate::bootstrap::install(client.clone()).await?;
    let ctx = Arc::new(Context {
        client: client.clone(),
        authz: authz.clone(),
    });
    let feed = tokio::spawn(crate::authz::run_feed(
        client.clone(),
        authz.clone(),
        cancel.clone(),
    ));
    // Derived rules read templates and projects from the index, so wait for it.
    tokio::select! {
        _ = authz.wait_synced() => {}
        _ = cancel.cancelled() => return Ok(()),
    }
    let cfg = watcher::Config::default();
    let templates = Controller::new(Api::<WorkspaceTemplate>::all(client.clone()), cfg.clone());
    let workspaces = Controller::new(Api::<Workspace>::all(client.clone()), cfg.clone())
        .owns(Api::<WorkspaceRole>::all(client.clone()), cfg.clone());
    let projects = Controller::new(Api::<Namespace>::all(client.clone()), cfg.clone())
        .owns(Api::<Role>::all(client.clone()), cfg.clone());
    let globals = Controller::new(Api::<GlobalRole>::all(client.clone()), cfg.clone())
        .owns(Api::<ClusterRole>::all(client.clone()), cfg.clone());
    let global_bindings =
        Controller::new(Api::<GlobalRoleBinding>::all(client.clone()), cfg.clone())
            .owns(Api::<ClusterRoleBinding>::all(client.clone()), cfg.clone());
    let ws_roles = Controller::new(Api::<WorkspaceRole>::all(client.clone()), cfg.clone());
    let ws_bindings = Controller::new(
        Api::<WorkspaceRoleBinding>::all(client.clone()),
        cfg.clone(),
    );
    let store = ws_bindings.store();
    // A project joining or leaving a workspace changes where the workspace's bindings apply.
    let ws_bindings = ws_bindings
        .watches(
            Api::<Namespace>::all(client.clone()),
            cfg.clone(),
            move |ns: Namespace| {
                let ws = ns.labels().get(names::WORKSPACE_LABEL).cloned();
                store
                    .state()
                    .into_iter()
                    .filter(|b| {
                        let bws = b.labels().get(names::WORKSPACE_LABEL);
                        // Without a label the namespace may have just left a workspace: recheck all.
                        ws.is_none() || bws == ws.as_ref()
                    })
                    .map(|b| ObjectRef::from_obj(b.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .owns(Api::<RoleBinding>::all(client.clone()), cfg.clone());
    let ctxc = &ctx;
    futures::join!(
        run!(templates, workspace_template, ctxc, cancel),
        run!(workspaces, workspace, ctxc, cancel),
        run!(projects, project, ctxc, cancel),
        run!(globals, global_role, ctxc, cancel),
        run!(global_bindings, global_role_binding, ctxc, cancel),
        run!(ws_roles, workspace_role, ctxc, cancel),
        run!(ws_bindings, workspace_role_binding, ctxc, cancel),
        users::run(client.clone(), cancel.clone()),
    );
    feed.abort();
    Ok(())
}
