//! Gateway API v1.2 semantics as pure functions: no sockets, no async. The
//! embedded target serves what this computes and `gwlab explain` prints it.

pub mod compile;
pub mod evaluate;
pub mod hostname;
pub mod lab_gateway;
pub mod path;
pub mod request;
pub mod status;
pub mod timeouts;
pub mod world;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
