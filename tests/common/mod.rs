pub mod bin;
pub mod envtest;
pub mod fake_api;
