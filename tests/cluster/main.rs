#[path = "../common/mod.rs"]
mod common;

mod cluster_scenarios;
mod cluster_target;
mod doctor;
mod faults;
mod gateway_api;
mod kong_deviations;
mod lab_api;
mod lab_cluster;
mod lab_upgrade;
mod load;
mod ownership;
mod standin_modes;
