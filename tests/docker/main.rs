#[path = "../common/mod.rs"]
mod common;

mod docker;
mod registry;
