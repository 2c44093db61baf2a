//! The `default/kubernetes` Service every cluster has, and its endpoints following the
//! kernel's address across restarts.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestKernel;
use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kernel::{Kernel, KernelConfig};
use kube::Api;

#[tokio::test]
async fn the_kubernetes_service_points_at_the_kernel_and_follows_its_port() {
    let k = TestKernel::start_with(|c| c.advertise_address = "127.0.0.1:7443".into()).await;
    let client = k.client();
    let svc = Api::<Service>::namespaced(client.clone(), "default")
        .get("kubernetes")
        .await
        .unwrap();
    let spec = svc.spec.unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.1"));
    assert_eq!(
        spec.selector, None,
        "the kernel, not a selector, owns its endpoints"
    );
    let port = &spec.ports.unwrap()[0];
    assert_eq!((port.name.as_deref(), port.port), (Some("https"), 443));
    let labels = svc.metadata.labels.unwrap();
    assert_eq!(labels["component"], "apiserver");
    assert_eq!(labels["provider"], "kubernetes");

    let ep = Api::<Endpoints>::namespaced(client.clone(), "default")
        .get("kubernetes")
        .await
        .unwrap();
    let subset = &ep.subsets.unwrap()[0];
    assert_eq!(subset.addresses.as_ref().unwrap()[0].ip, "127.0.0.1");
    assert_eq!(subset.ports.as_ref().unwrap()[0].port, 7443);
    let slice = Api::<EndpointSlice>::namespaced(client.clone(), "default")
        .get("kubernetes")
        .await
        .unwrap();
    assert_eq!(slice.address_type, "IPv4");
    assert_eq!(
        slice.endpoints.unwrap()[0].addresses,
        vec!["127.0.0.1".to_string()]
    );
    assert_eq!(slice.ports.unwrap()[0].port, Some(7443));

    // A new Service never gets the reserved address.
    let other: Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "other"},
        "spec": {"ports": [{"port": 80}]},
    }))
    .unwrap();
    let other = Api::<Service>::namespaced(client, "default")
        .create(&Default::default(), &other)
        .await
        .unwrap();
    assert_ne!(other.spec.unwrap().cluster_ip.as_deref(), Some("10.96.0.1"));

    // Restarted on another port, the kernel rewrites the endpoints and keeps the Service.
    let TestKernel { kernel, dir } = k;
    let uid = svc.metadata.uid;
    kernel.shutdown().await;
    let mut cfg = KernelConfig::new(dir.path());
    cfg.fsync = false;
    cfg.advertise_address = "127.0.0.1:9443".into();
    let kernel = Kernel::start(cfg).await.unwrap();
    let k = TestKernel { kernel, dir };
    let client = k.client();
    let svc = Api::<Service>::namespaced(client.clone(), "default")
        .get("kubernetes")
        .await
        .unwrap();
    assert_eq!(svc.metadata.uid, uid, "the Service is kept, not recreated");
    let ep = Api::<Endpoints>::namespaced(client.clone(), "default")
        .get("kubernetes")
        .await
        .unwrap();
    assert_eq!(ep.subsets.unwrap()[0].ports.as_ref().unwrap()[0].port, 9443);
    let slice = Api::<EndpointSlice>::namespaced(client, "default")
        .get("kubernetes")
        .await
        .unwrap();
    assert_eq!(slice.ports.unwrap()[0].port, Some(9443));
}
