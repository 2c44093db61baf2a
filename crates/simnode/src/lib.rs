//! A simulated node for tests and benchmarks: registers a Node, heartbeats its Lease and moves bound pods through their phases on command, like kwok.
