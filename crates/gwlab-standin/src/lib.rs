//! What stands in, on a real API server without a kubelet or a Gateway
//! controller (envtest), for what a cluster would run: gwlab's reference
//! gateway as the Gateway controller (writing the statuses the model
//! computes and serving the data plane on loopback), a stand-in kubelet, and
//! the envtest API server itself. For tests and local runs only; never
//! shipped in the `gwlab` binary.

pub mod controller;
pub mod envtest;
