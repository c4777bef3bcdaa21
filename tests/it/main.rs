#[path = "../common/mod.rs"]
mod common;

mod cache;
mod cli;
mod doctor_from;
mod embedded;
mod first_steps;
mod fuzz;
mod html_report;
mod kong;
mod kong_manifests;
mod lab_cli;
mod lab_course;
mod migrate;
mod readme;
mod reports;
mod robustness;
mod split;
