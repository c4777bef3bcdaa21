//! `gwlab check`: read every scenario and manifest, report every problem.

use crate::cli::CheckArgs;
use crate::exit;
use crate::scenario;

pub fn run(args: &CheckArgs) -> i32 {
    let dirs = match scenario::find(&args.paths) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let mut bad = 0;
    let mut objects = 0;
    for dir in &dirs {
        match scenario::load(dir) {
            Ok(s) => {
                objects += s.all_objects().count();
                println!("ok   {} ({})", s.name, dir.display());
            }
            Err(e) => {
                bad += 1;
                println!("bad  {}", dir.display());
                eprintln!("{e}");
            }
        }
    }
    println!(
        "{} scenarios checked, {bad} with problems, {objects} objects",
        dirs.len()
    );
    if bad > 0 { exit::BAD_INPUT } else { exit::OK }
}
