//! Gateway API semantics (v1.2.1 and what later releases added) as pure functions: no sockets, no async. The
//! embedded target serves what this computes and `gwlab explain` prints it.

pub mod compile;
pub mod cors;
pub mod evaluate;
pub use crate::hostname;
pub mod lab_gateway;
pub mod path;
pub mod request;
pub mod status;

pub mod world;

#[cfg(test)]
mod kong_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

/// A Gateway, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GatewayRef {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for GatewayRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}
