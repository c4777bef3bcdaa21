//! gwlab's pure core: what gwlab knows and computes without a network, a
//! cluster or a runtime. The scenario format and its loading, manifests and
//! their validation, the Gateway API model (the embedded gateway's
//! semantics), statistics, route maps, explanations, migrate's converter,
//! and the facts about Kong. Nothing here links kube, bollard, hyper, tokio
//! or reqwest (see this crate's Cargo.toml).

pub mod diag;
pub mod duration;
pub mod explain;
pub mod features;
pub mod files;
pub mod gateway_api;
pub mod hostname;
pub mod implementations;
pub mod kinds;
pub mod kong;
pub mod manifest;
pub mod migrate;
pub mod model;
pub mod route_map;
pub mod scenario;
pub mod slug;
pub mod stats;
pub mod xml;
pub mod yaml;
pub(crate) mod yaml_path;
