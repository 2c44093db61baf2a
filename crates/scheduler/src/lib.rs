//! The pod scheduler, node lifecycle and volume binding for embedded mode, written against the Kubernetes API only.
