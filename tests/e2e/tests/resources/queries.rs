//! Paging, sorting, the metadata filters and the per-resource ones, workspace paths, single GETs, revisions and abnormal workloads, as admin.

use super::*;
use e2e::resources::V1ALPHA2;

/// Paging, sorting and the generic metadata filters over the four ConfigMaps.
pub(crate) fn configmap_queries(s: &Server, admin: &str) {
    let q = |query: &str| {
        list(
            s,
            admin,
            &format!("{V1ALPHA3}/configmaps?labelSelector={MINE}&{query}"),
        )
    };
    let by_name = refs(&[
        "rs-a1/cfg-alpha",
        "rs-a2/cfg-alpha",
        "rs-b1/cfg-b",
        "rs-a1/cfg-beta",
    ]);
    assert_eq!(q("sortBy=name&ascending=true"), (by_name.clone(), 4));
    let mut reversed = by_name.clone();
    reversed.reverse();
    assert_eq!(q("sortBy=name&ascending=false"), (reversed.clone(), 4));
    assert_eq!(q("sortBy=name"), (reversed, 4), "descending is the default");
    assert_eq!(
        q("sortBy=name&ascending=true&limit=2&page=1"),
        (by_name[..2].to_vec(), 4)
    );
    assert_eq!(
        q("sortBy=name&ascending=true&limit=2&page=2"),
        (by_name[2..].to_vec(), 4)
    );
    assert_eq!(
        q("sortBy=name&ascending=true&limit=3&page=2"),
        (by_name[3..].to_vec(), 4)
    );
    assert_eq!(q("sortBy=name&ascending=true&limit=2&page=3"), (vec![], 4));
    assert_eq!(q("sortBy=name&ascending=true&limit=0"), (vec![], 4));
    assert_eq!(
        q("sortBy=name&ascending=true&limit=-1&page=5"),
        (by_name.clone(), 4)
    );

    // Creation time: ascending is non-decreasing, descending is its exact reverse, and
    // both spellings of the field agree.
    let (up, _) = q("sortBy=createTime&ascending=true");
    let (down, _) = q("sortBy=createTime");
    let mut rev = up.clone();
    rev.reverse();
    assert_eq!(down, rev);
    assert_eq!(q("sortBy=creationTimestamp").0, down);
    assert_eq!(q("").0, down, "createTime descending is the default order");
    assert_eq!(set(&up), set(&by_name));
    let r = s.get(
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector={MINE}&sortBy=createTime&ascending=true"),
    );
    let times: Vec<String> = r.json().unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // The metadata filters.
    let uid = uid_of(s, admin, &["get", "configmap", "cfg-alpha", "-n", "rs-a1"]);
    let asc = "sortBy=name&ascending=true";
    let by_uid = format!("uid={uid}");
    for (query, want) in [
        ("name=alpha", vec!["rs-a1/cfg-alpha", "rs-a2/cfg-alpha"]),
        ("name=Gamma", vec!["rs-a1/cfg-beta"]),
        ("name=gamma", vec![]),
        (
            "names=cfg-b,cfg-beta",
            vec!["rs-b1/cfg-b", "rs-a1/cfg-beta"],
        ),
        ("names=cfg", vec![]),
        (by_uid.as_str(), vec!["rs-a1/cfg-alpha"]),
        ("namespace=rs-a2", vec!["rs-a2/cfg-alpha"]),
        ("label=app%3Dweb", vec!["rs-a1/cfg-alpha"]),
        ("label=app", vec!["rs-a1/cfg-alpha", "rs-a2/cfg-alpha"]),
        ("annotation=note%3Dfirst", vec!["rs-a1/cfg-alpha"]),
        ("fieldSelector=metadata.name%3Dcfg-b", vec!["rs-b1/cfg-b"]),
        (
            "fieldSelector=metadata.namespace!%3Drs-a1",
            vec!["rs-a2/cfg-alpha", "rs-b1/cfg-b"],
        ),
    ] {
        let (names, total) = q(&format!("{query}&{asc}"));
        assert_eq!(names, refs(&want), "{query}");
        assert_eq!(total, want.len() as u64, "{query}");
    }
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector=e2e%3Dres,app%20in%20(db)"),
    );
    assert_eq!(names, refs(&["rs-a2/cfg-alpha"]));

    // Namespaced and workspace paths.
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces/rs-a1/configmaps?labelSelector={MINE}&{asc}"),
    );
    assert_eq!(names, refs(&["rs-a1/cfg-alpha", "rs-a1/cfg-beta"]));
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/workspaces/rs-wa/configmaps?labelSelector={MINE}&{asc}"),
    );
    assert_eq!(
        names,
        refs(&["rs-a1/cfg-alpha", "rs-a2/cfg-alpha", "rs-a1/cfg-beta"])
    );
    let (names, _) = list(
        s,
        admin,
        &format!("{TENANT}/workspaces/rs-wa/namespaces/rs-a2/configmaps?labelSelector={MINE}"),
    );
    assert_eq!(names, refs(&["rs-a2/cfg-alpha"]));
    let (names, total) = list(
        s,
        admin,
        &format!("{TENANT}/workspaces/rs-wb/namespaces/rs-a1/configmaps"),
    );
    assert_eq!(
        (names, total),
        (vec![], 0),
        "rs-a1 is not a project of rs-wb"
    );
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces?labelSelector=kubesphere.io/workspace%3Drs-wa&{asc}"),
    );
    assert_eq!(names, refs(&["rs-a1", "rs-a2"]));
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/workspaces/rs-wa/namespaces?{asc}"),
    );
    assert_eq!(names, refs(&["rs-a1", "rs-a2"]));
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces?name=Shop%20Floor"),
    );
    assert_eq!(names, refs(&["rs-a1"]), "namespace alias");
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces?status=Active&names=rs-a1,rs-b1&{asc}"),
    );
    assert_eq!(names, refs(&["rs-a1", "rs-b1"]));
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces?status=Terminating&names=rs-a1,rs-b1"),
    );
    assert!(names.is_empty(), "{names:?}");
}

/// Workloads: status meanings, alias names, owners, pods' own filters, single GETs,
/// revisions and abnormal counts. Without `controllers` (a bare `sphere kernel`)
/// workloads get no status, ReplicaSets or revisions.
pub(crate) fn workload_queries(s: &Server, admin: &str, controllers: bool) {
    let deploy = |query: &str| {
        format!("{V1ALPHA3}/deployments?labelSelector={MINE}&sortBy=name&ascending=true&{query}")
    };
    // Without nodes no pod gets ready: deployments with replicas are `updating` once
    // their controller counted the pods, the scaled-to-zero one is `stopped`. With no
    // controller, no status says there are replicas: all are `stopped`.
    let all = ["rs-a1/api", "rs-b1/other", "rs-a1/web", "rs-a2/worker"];
    if controllers {
        wait_list(s, admin, &deploy("status=stopped"), &all[..1], SETTLE);
        wait_list(s, admin, &deploy("status=updating"), &all[1..], SETTLE);
    } else {
        wait_list(s, admin, &deploy("status=stopped"), &all, SETTLE);
        wait_list(s, admin, &deploy("status=updating"), &[], SETTLE);
    }
    assert_eq!(
        list(s, admin, &deploy("status=running")).0,
        Vec::<String>::new()
    );
    assert_eq!(
        list(s, admin, &deploy("name=Store")).0,
        refs(&["rs-a1/web"])
    );
    // Update time: the newest condition update; both spellings agree and are reverses.
    let by_update = |query: &str| {
        list(
            s,
            admin,
            &format!("{V1ALPHA3}/deployments?labelSelector={MINE}&{query}"),
        )
        .0
    };
    let down = by_update("sortBy=updateTime");
    let mut up = by_update("sortBy=lastUpdateTimestamp&ascending=true");
    up.reverse();
    assert_eq!(down, up);
    assert_eq!(set(&down).len(), 4);

    let web_uid = uid_of(s, admin, &["get", "deployment", "web", "-n", "rs-a1"]);
    if controllers {
        owners(s, admin, &web_uid);
    }
    pods_nodes_services(s, admin);
    gets_revisions_abnormal(s, admin, &web_uid, controllers);
}

/// Owners: the ReplicaSet of web, web's pods by owner kind and (through their
/// ReplicaSet) by the Deployment's uid.
fn owners(s: &Server, admin: &str, web_uid: &str) {
    let rs_path = format!("{V1ALPHA3}/namespaces/rs-a1/replicasets?ownerReference={web_uid}");
    let owned = e2e::eventually("web's ReplicaSet", SETTLE, &[(s.name, &s.process)], || {
        let (names, total) = list(s, admin, &rs_path);
        (total == 1)
            .then_some(names.clone())
            .ok_or(format!("{names:?}"))
    });
    assert!(owned[0].starts_with("rs-a1/web-"), "{owned:?}");
    let pods_of_web = format!("{V1ALPHA3}/namespaces/rs-a1/pods?ownerReference={web_uid}");
    let web_pods = e2e::eventually("web's 2 pods", SETTLE, &[(s.name, &s.process)], || {
        let (names, total) = list(s, admin, &pods_of_web);
        (total == 2)
            .then_some(names.clone())
            .ok_or(format!("{names:?}"))
    });
    assert!(
        web_pods.iter().all(|p| p.starts_with("rs-a1/web-")),
        "{web_pods:?}"
    );
    let (by_kind, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces/rs-a1/pods?ownerKind=ReplicaSet"),
    );
    assert_eq!(
        set(&by_kind),
        set(&web_pods),
        "pods of rs-a1 owned by a ReplicaSet"
    );
}

/// Pods: phase/readiness status and the pod-specific filters; services; nodes.
fn pods_nodes_services(s: &Server, admin: &str) {
    let pods = |query: &str| {
        list(
            s,
            admin,
            &format!("{V1ALPHA3}/pods?labelSelector={MINE}&sortBy=name&ascending=true&{query}"),
        )
        .0
    };
    assert_eq!(pods(""), refs(&["rs-a1/solo", "rs-a1/vol"]));
    assert_eq!(
        pods("status=Waiting"),
        refs(&["rs-a1/solo", "rs-a1/vol"]),
        "no kubelet: pending"
    );
    assert_eq!(pods("status=Running"), Vec::<String>::new());
    assert_eq!(pods("nodeName=rs-node-x"), refs(&["rs-a1/solo"]));
    assert_eq!(pods("nodeName=node-y"), Vec::<String>::new());
    assert_eq!(pods("pvcName=data-claim"), refs(&["rs-a1/vol"]));
    assert_eq!(pods("serviceName=web-svc"), refs(&["rs-a1/solo"]));
    assert_eq!(pods("serviceName=no-svc"), Vec::<String>::new());
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/services?labelSelector={MINE}"),
    );
    assert_eq!(names, refs(&["rs-a1/web-svc"]));
    // A cordoned node (no kubelet reports on it, so it has no conditions).
    let nodes = |query: &str| {
        list(
            s,
            admin,
            &format!("{V1ALPHA3}/nodes?labelSelector={MINE}&{query}"),
        )
        .0
    };
    assert_eq!(nodes("status=unschedulable"), refs(&["rs-node-x"]));
    assert_eq!(nodes("status=running"), Vec::<String>::new());
}

/// Single GETs, revisions and abnormal workload counts.
fn gets_revisions_abnormal(s: &Server, admin: &str, web_uid: &str, controllers: bool) {
    // Single GETs read the full object; misses are 404 Status.
    let (status, web) = get_json(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces/rs-a1/deployments/web"),
    );
    assert_eq!(status, 200, "{web}");
    assert_eq!(web["spec"]["replicas"], 2, "{web}");
    assert_eq!(web["metadata"]["uid"], web_uid);
    let (status, body) = get_json(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces/rs-a1/deployments/nope"),
    );
    assert_eq!((status, &body["kind"]), (404, &json!("Status")), "{body}");
    let (status, ns) = get_json(s, admin, &format!("{V1ALPHA3}/namespaces/rs-a1"));
    assert_eq!(status, 200, "{ns}");
    assert_eq!(
        ns["metadata"]["labels"]["kubesphere.io/workspace"], "rs-wa",
        "{ns}"
    );

    // Revisions: the ReplicaSet of revision 1, then revision 2 after a new image.
    let rev = |n: u32| format!("{V1ALPHA2}/namespaces/rs-a1/deployments/web/revisions/{n}");
    let (status, body) = get_json(
        s,
        admin,
        &format!("{V1ALPHA2}/namespaces/rs-a1/configmaps/cfg-alpha/revisions/1"),
    );
    assert_eq!(status, 404, "{body}");
    if controllers {
        revisions(s, admin, &rev);
    } else {
        let (status, body) = get_json(s, admin, &rev(1));
        assert_eq!(status, 404, "no ReplicaSet, no revision: {body}");
    }

    // Abnormal workloads: the updating deployments of each project.
    let want = u64::from(controllers);
    for ns in ["rs-a1", "rs-a2", "rs-b1"] {
        let path = format!("{V1ALPHA2}/namespaces/{ns}/abnormalworkloads");
        let (status, body) = get_json(s, admin, &path);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["namespace"], ns, "{body}");
        assert_eq!(body["data"]["deployments"], want, "{path}: {body}");
        assert_eq!(body["data"]["jobs"], 0, "{path}: {body}");
    }
    let (status, body) = get_json(s, admin, &format!("{V1ALPHA2}/abnormalworkloads"));
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["deployments"].as_u64().unwrap_or(0) >= 3 * want,
        "{body}"
    );
}

/// The ReplicaSet of revision 1, then revision 2 after a new image.
fn revisions(s: &Server, admin: &str, rev: &dyn Fn(u32) -> String) {
    let first =
        e2e::eventually(
            "revision 1 of web",
            SETTLE,
            &[(s.name, &s.process)],
            || match get_json(s, admin, &rev(1)) {
                (200, body) => Ok(body),
                (status, body) => Err(format!("{status} {body}")),
            },
        );
    assert_eq!(first["kind"], "ReplicaSet", "{first}");
    assert_eq!(
        first["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25",
        "{first}"
    );
    kubectl_ok(
        s,
        admin,
        &[
            "set",
            "image",
            "deployment/web",
            "-n",
            "rs-a1",
            "web=nginx:1.26",
        ],
    );
    let second =
        e2e::eventually(
            "revision 2 of web",
            SETTLE,
            &[(s.name, &s.process)],
            || match get_json(s, admin, &rev(2)) {
                (200, body) => Ok(body),
                (status, body) => Err(format!("{status} {body}")),
            },
        );
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26",
        "{second}"
    );
    let (status, body) = get_json(s, admin, &rev(9));
    assert_eq!(status, 404, "{body}");
}
