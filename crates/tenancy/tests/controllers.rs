//! Controller tests against an in-process kernel: workspace → roles, project → roles, bindings → RBAC, cleanup.
#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use std::collections::BTreeMap;
use support::{eventually, start, user};
use tenancy::kinds::{
    GlobalRoleBinding, Workspace, WorkspaceRole, WorkspaceRoleBinding, WorkspaceTemplate,
    WorkspaceTemplateSpec,
};

fn project(name: &str, ws: &str, creator: &str) -> Namespace {
    let mut ns = Namespace::default();
    ns.metadata.name = Some(name.into());
    ns.metadata.labels = Some(BTreeMap::from([(
        "kubesphere.io/workspace".to_string(),
        ws.to_string(),
    )]));
    ns.metadata.annotations = Some(BTreeMap::from([(
        "kubesphere.io/creator".to_string(),
        creator.to_string(),
    )]));
    ns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_project_and_binding_lifecycle() {
    let env = start().await;
    let c = env.admin.clone();
    let mut t = WorkspaceTemplate::new("ws1", WorkspaceTemplateSpec::default());
    t.spec.template.spec.manager = Some("alice".into());
    Api::<WorkspaceTemplate>::all(c.clone())
        .create(&PostParams::default(), &t)
        .await
        .unwrap();

    let roles: Api<WorkspaceRole> = Api::all(c.clone());
    eventually("workspace roles", || async {
        let l = roles
            .list(&ListParams::default().labels("kubesphere.io/workspace=ws1"))
            .await
            .ok()?;
        (l.items.len() == 4).then_some(())
    })
    .await;
    let wrbs: Api<WorkspaceRoleBinding> = Api::all(c.clone());
    eventually("manager binding", || async {
        wrbs.get_opt("alice-ws1-admin").await.ok()?
    })
    .await;
    let crs: Api<ClusterRole> = Api::all(c.clone());
    eventually("derived cluster role", || async {
        crs.get_opt("kubesphere:workspacerole:ws1-admin")
            .await
            .ok()?
    })
    .await;

    let nss: Api<Namespace> = Api::all(c.clone());
    nss.create(&PostParams::default(), &project("p1", "ws1", "bob"))
        .await
        .unwrap();
    let p1_roles: Api<Role> = Api::namespaced(c.clone(), "p1");
    eventually("project roles", || async {
        let l = p1_roles.list(&ListParams::default()).await.ok()?;
        let mut n: Vec<String> = l
            .items
            .iter()
            .filter_map(|r| r.metadata.name.clone())
            .collect();
        n.sort();
        (n == ["admin", "operator", "viewer"]).then_some(())
    })
    .await;
    let p1_rbs: Api<RoleBinding> = Api::namespaced(c.clone(), "p1");
    eventually("creator binding", || async {
        p1_rbs.get_opt("bob-admin").await.ok()?
    })
    .await;
    eventually("workspace binding mapped into the project", || async {
        p1_rbs
            .get_opt("kubesphere:workspacerolebinding:alice-ws1-admin")
            .await
            .ok()?
    })
    .await;
    let ns = eventually("project owned by its workspace", || async {
        let ns = nss.get("p1").await.ok()?;
        let owned = ns
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o.iter().any(|o| o.kind == "Workspace"));
        owned.then_some(ns)
    })
    .await;
    assert_eq!(ns.metadata.name.as_deref(), Some("p1"));

    // Kubernetes RBAC now authorizes the workspace admin and the creator inside the project.
    let alice = kubeclient::as_user(&c, &user("alice"));
    let carol = kubeclient::as_user(&c, &user("carol"));
    eventually("alice may list pods in p1", || async {
        Api::<Pod>::namespaced(alice.clone(), "p1")
            .list(&ListParams::default())
            .await
            .ok()
    })
    .await;
    assert!(
        Api::<Pod>::namespaced(carol.clone(), "p1")
            .list(&ListParams::default())
            .await
            .is_err()
    );
    let ws_get = Api::<Workspace>::all(alice.clone());
    eventually("alice may get her workspace", || async {
        ws_get.get("ws1").await.ok()
    })
    .await;
    assert!(
        Api::<Workspace>::all(carol.clone())
            .get("ws1")
            .await
            .is_err()
    );

    // A second project is covered by the existing binding without touching it.
    nss.create(&PostParams::default(), &project("p2", "ws1", "bob"))
        .await
        .unwrap();
    let p2_rbs: Api<RoleBinding> = Api::namespaced(c.clone(), "p2");
    eventually("binding follows new project", || async {
        p2_rbs
            .get_opt("kubesphere:workspacerolebinding:alice-ws1-admin")
            .await
            .ok()?
    })
    .await;

    // Removing the binding removes what it mapped to.
    wrbs.delete("alice-ws1-admin", &DeleteParams::default())
        .await
        .unwrap();
    eventually("mapped RoleBinding removed", || async {
        match p1_rbs
            .get_opt("kubesphere:workspacerolebinding:alice-ws1-admin")
            .await
        {
            Ok(None) => Some(()),
            _ => None,
        }
    })
    .await;
    let crbs: Api<ClusterRoleBinding> = Api::all(c.clone());
    eventually("mapped ClusterRoleBinding removed", || async {
        match crbs
            .get_opt("kubesphere:workspacerolebinding:alice-ws1-admin")
            .await
        {
            Ok(None) => Some(()),
            _ => None,
        }
    })
    .await;

    // Detaching p2, then deleting the workspace: p1 goes with it, p2 stays.
    let mut p2 = nss.get("p2").await.unwrap();
    p2.metadata
        .labels
        .as_mut()
        .unwrap()
        .remove("kubesphere.io/workspace");
    nss.replace("p2", &PostParams::default(), &p2)
        .await
        .unwrap();
    eventually("p2 detached", || async {
        let ns = nss.get("p2").await.ok()?;
        (ns.metadata.owner_references.unwrap_or_default().is_empty()).then_some(())
    })
    .await;
    Api::<WorkspaceTemplate>::all(c.clone())
        .delete("ws1", &DeleteParams::default())
        .await
        .unwrap();
    eventually("p1 deleted with its workspace", || async {
        match nss.get_opt("p1").await {
            Ok(None) => Some(()),
            Ok(Some(ns)) if ns.metadata.deletion_timestamp.is_some() => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(
        nss.get_opt("p2")
            .await
            .unwrap()
            .is_some_and(|n| n.metadata.deletion_timestamp.is_none())
    );
    env.cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_binding_maps_to_cluster_rbac_and_user_cleanup() {
    let env = start().await;
    let c = env.admin.clone();
    let grbs: Api<GlobalRoleBinding> = Api::all(c.clone());
    grbs.create(
        &PostParams::default(),
        &tenancy::bootstrap::global_role_binding("erin", "platform-admin"),
    )
    .await
    .unwrap();
    let erin = kubeclient::as_user(&c, &user("erin"));
    eventually(
        "platform-admin may list namespaces through Kubernetes RBAC",
        || async {
            Api::<Namespace>::all(erin.clone())
                .list(&ListParams::default())
                .await
                .ok()
        },
    )
    .await;
    let removed = tenancy::controllers::remove_user_bindings(&c, "erin")
        .await
        .unwrap();
    assert!(removed >= 1);
    assert!(grbs.get_opt("erin-platform-admin").await.unwrap().is_none());
    eventually(
        "access gone after the user's bindings are removed",
        || async {
            Api::<Namespace>::all(erin.clone())
                .list(&ListParams::default())
                .await
                .err()
                .map(|_| ())
        },
    )
    .await;
    env.cancel.cancel();
}
