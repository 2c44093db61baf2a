//! Generates crates/protobuf's message table from k8s-pb's prost source and the Kubernetes Go types.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod go_src;
mod prost_src;
mod table;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: protogen <k8s-pb-dir> <go k8s.io/api dir> <go k8s.io/apimachinery dir> \
                     <go k8s.io/apiextensions-apiserver dir> > crates/protobuf/src/messages.txt";

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [pb, api, machinery, extensions] = args.as_slice() else {
        bail!("{USAGE}")
    };
    let version = table::crate_version(pb).context("reading k8s-pb's Cargo.toml")?;
    let messages = prost_src::read_all(&pb.join("src"))?;
    let generated = table::build(
        &messages,
        &[api.clone(), machinery.clone(), extensions.clone()],
    )?;
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    print!("{}", table::render(&generated, &version));
    Ok(())
}
