//! `gwlab report`: a saved JSON report rendered again, as the HTML page
//! `gwlab test --html` writes, for runs whose JSON is all that was kept (a CI
//! artifact). A file that is not a report of this schema is bad input.

use crate::cli::ReportArgs;
use crate::exit;
use crate::report::{html, saved};

pub fn run(args: &ReportArgs) -> i32 {
    let doc = match saved::load(&args.report) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    if let Err(e) = std::fs::write(&args.html, html::render(&doc)) {
        eprintln!(
            "error: cannot write the HTML report to {}: {e}",
            args.html.display()
        );
        return exit::BAD_INPUT;
    }
    exit::OK
}
