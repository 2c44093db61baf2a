//! Workloads on `sphere up` with simulated nodes started in this process, checked as a user would with kubectl: Deployments, DaemonSets, Jobs, Service endpoints, scheduling failures and StatefulSet ordering.
//!
//! Every scenario has its own namespace and its own simulated nodes (labelled and
//! tainted for that namespace, see `e2e::simnodes`), so scenarios run in parallel on
//! the one shared cluster without landing pods on each other's nodes.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

#[path = "workloads/common.rs"]
mod common;
#[path = "workloads/daemonset.rs"]
mod daemonset;
#[path = "workloads/deployment.rs"]
mod deployment;
#[path = "workloads/job.rs"]
mod job;
#[path = "workloads/scheduling.rs"]
mod scheduling;
#[path = "workloads/service.rs"]
mod service;
#[path = "workloads/statefulset.rs"]
mod statefulset;
