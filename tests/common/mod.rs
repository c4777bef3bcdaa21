pub mod bin;
pub mod envtest;
pub mod fake_api;
pub mod home;
pub mod lab;
pub mod standin;
