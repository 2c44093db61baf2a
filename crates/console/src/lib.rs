//! The web console's built assets embedded in sphere and served with caching and a Content-Security-Policy.
//!
//! `crates/console/build.rs` turns `console/dist` (the Vite build) into a static table at compile
//! time; [`router`] serves it. Hashed files under `/assets/` are cached forever, `index.html` is
//! revalidated on every load (strong ETags, `304 Not Modified`), client-side routes fall back to
//! `index.html`, and the Kubernetes and KubeSphere API prefixes are never answered with HTML so the
//! gateway can route them.

mod asset;
mod negotiate;
mod serve;

pub use asset::{Asset, Encoded, assets, is_built};
pub use serve::{CONTENT_SECURITY_POLICY, RESERVED_PREFIXES, is_reserved};

/// The console's routes: a fallback handler for every path, so the gateway can install it with
/// `Router::fallback_service(console::router())` (or merge it into a router without a fallback).
pub fn router() -> axum::Router {
    router_for(assets())
}

/// The same router over another asset table (tests, or a console embedded by another binary).
pub fn router_for(assets: &'static [Asset]) -> axum::Router {
    serve::router(assets)
}
