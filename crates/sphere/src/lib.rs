//! The `sphere` process shell: data dir, PKI, kubeconfig, HTTPS serving and shutdown.
//!
//! The binary (`main.rs`) is a thin layer over this library so that integration
//! tests and later admin commands can reuse the PKI and kubeconfig code.

pub mod app;
pub mod cli;
pub mod datadir;
pub mod fsutil;
pub mod identity;
pub mod kubeconfig;
pub mod longrunning;
pub mod pki;
pub mod run;
pub mod server;
pub mod testclock;
pub mod tls;
pub mod version;
