//! gwlab's own fuzzer, on stable Rust: seeded mutations of the repository's
//! scenarios and migrate inputs, driven in process through the scenario
//! loader (with manifest validation and the gateway model) and through
//! migrate. A case fails on a panic, a run over the time bound, a problem
//! that names no file, an overlong message, or migrate output that gwlab's
//! own check rejects.
//!
//! `cargo test --test fuzz` runs a short, fixed budget with a fixed seed (the
//! same mutants on every run) and replays every committed regression case
//! under `tests/fuzz/regressions/`. `scripts/fuzz.sh SECONDS [SEED]` runs a
//! longer one; each failure it finds is written to `target/fuzz-failures/`,
//! ready to be committed as a regression case.
//!
//! Settings (environment): `GWLAB_FUZZ_SEED` (default 17), `GWLAB_FUZZ_CASES`
//! (default 400) or `GWLAB_FUZZ_SECONDS` (run until then instead),
//! `GWLAB_FUZZ_CASE` (run only that case number: a reproduction),
//! `GWLAB_FUZZ_LIMIT_MS` (the time bound of one case, default 5000).

#[path = "../fuzz/mutate.rs"]
mod mutate;
#[path = "../fuzz/oracle.rs"]
mod oracle;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oracle::{Case, Outcome};

const DEFAULT_SEED: u64 = 17;
const DEFAULT_CASES: u64 = 400;
const DEFAULT_LIMIT_MS: u64 = 5_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a whole number")),
    )
}

/// The inputs mutants are made from.
struct Corpus {
    /// Scenario directories: (file name, content) each.
    scenarios: Vec<Vec<(String, Vec<u8>)>>,
    /// Migrate inputs.
    migrate: Vec<Vec<u8>>,
}

/// The `*.yaml` files of `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Directories under `root` (one level) holding a `scenario.yaml`.
fn scenario_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("scenario.yaml").is_file());
    dirs.sort();
    dirs
}

impl Corpus {
    fn load() -> Corpus {
        let r = repo();
        let mut scenarios = Vec::new();
        for root in ["scenarios", "tests/scenarios", "examples/seed-migration"] {
            for d in scenario_dirs(&r.join(root)) {
                scenarios.push(yaml_files(&d));
            }
        }
        let mut migrate: Vec<Vec<u8>> = scenario_inputs(&r.join("tests/migrate"));
        migrate.push(std::fs::read(r.join("examples/seed-migration/before/ingress.yaml")).unwrap());
        assert!(
            scenarios.len() >= 10 && migrate.len() >= 10,
            "the corpus is the repository's"
        );
        Corpus { scenarios, migrate }
    }

    /// Case `n` of `seed`: one file of a scenario, or one migrate input,
    /// mutated. The generator is seeded by both, so a case is reproduced
    /// from them alone.
    fn case(&self, seed: u64, n: u64) -> Case {
        let mut rng = fastrand::Rng::with_seed(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n);
        let donors: Vec<&[u8]> = self.migrate.iter().map(Vec::as_slice).collect();
        if rng.u8(0..10) < 7 {
            let mut files = self.scenarios[rng.usize(..self.scenarios.len())].clone();
            let i = rng.usize(..files.len());
            files[i].1 = mutate::mutate(&files[i].1, &donors, &mut rng);
            Case::Scenario { files }
        } else {
            let input = &self.migrate[rng.usize(..self.migrate.len())];
            Case::Migrate {
                file: "input.yaml".into(),
                bytes: mutate::mutate(input, &donors, &mut rng),
            }
        }
    }
}

/// The `input.yaml` of each directory of `root`.
fn scenario_inputs(root: &Path) -> Vec<Vec<u8>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path().join("input.yaml"))
        .filter(|p| p.is_file())
        .collect();
    dirs.sort();
    dirs.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// A failing case, written where it can be looked at and committed as a
/// regression case: `target/fuzz-failures/<kind>-<seed>-<case>/`.
fn keep_failure(case: &Case, seed: u64, n: u64, why: &str) -> PathBuf {
    let kind = match case {
        Case::Scenario { .. } => "scenario",
        Case::Migrate { .. } => "migrate",
    };
    let dir = repo()
        .join("target/fuzz-failures")
        .join(format!("{kind}-{seed}-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    oracle::write(case, &dir).unwrap();
    std::fs::write(dir.join("WHY.txt"), format!("{why}\n")).unwrap();
    dir
}

#[test]
fn mutants_of_the_repository_inputs_never_crash_hang_or_blame_no_file() {
    let corpus = Corpus::load();
    let seed = env_u64("GWLAB_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let limit = Duration::from_millis(env_u64("GWLAB_FUZZ_LIMIT_MS").unwrap_or(DEFAULT_LIMIT_MS));
    let (first, cases) = match env_u64("GWLAB_FUZZ_CASE") {
        Some(n) => (n, Some(1)),
        None => (0, env_u64("GWLAB_FUZZ_CASES")),
    };
    let seconds = env_u64("GWLAB_FUZZ_SECONDS").map(Duration::from_secs);
    let cases = cases.or(if seconds.is_some() {
        None
    } else {
        Some(DEFAULT_CASES)
    });

    let started = Instant::now();
    let (mut accepted, mut bad_input) = (0u64, 0u64);
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, first);
    let mut n = first;
    loop {
        if cases.is_some_and(|c| n - first >= c) || seconds.is_some_and(|s| started.elapsed() >= s)
        {
            break;
        }
        let case = corpus.case(seed, n);
        let one = Instant::now();
        let result = oracle::run(&case, limit);
        if one.elapsed() > slowest.0 {
            slowest = (one.elapsed(), n);
        }
        match result {
            Ok(Outcome::Accepted) => accepted += 1,
            Ok(Outcome::BadInput) => bad_input += 1,
            Err(why) => {
                let kept = keep_failure(&case, seed, n, &why);
                eprintln!(
                    "FAIL case {n} of seed {seed}: {why}\n  kept in {}",
                    kept.display()
                );
                failures.push(n);
                // A case over the time bound leaves its thread running: stop.
                if why.starts_with("still running") {
                    n += 1;
                    break;
                }
            }
        }
        n += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = n - first;
    eprintln!(
        "fuzz: seed {seed}, {total} mutants in {elapsed:.1}s ({:.0}/s): {accepted} accepted, {bad_input} bad input, {} failed; slowest case {} took {:.2}s",
        total as f64 / elapsed.max(1e-9),
        failures.len(),
        slowest.1,
        slowest.0.as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "cases {failures:?} of seed {seed} failed (kept in target/fuzz-failures/; reproduce one with GWLAB_FUZZ_SEED={seed} GWLAB_FUZZ_CASE=N)"
    );
}

/// What a regression case's first line says it must end as:
/// `# expect: bad input` or `# expect: accepted`.
fn expected(first_file: &[u8], name: &str) -> Outcome {
    let first = String::from_utf8_lossy(first_file);
    let first = first.lines().next().unwrap_or_default();
    if first.starts_with("# expect: bad input") {
        Outcome::BadInput
    } else if first.starts_with("# expect: accepted") {
        Outcome::Accepted
    } else {
        panic!("{name}: the first line must be `# expect: bad input` or `# expect: accepted`")
    }
}

/// Every committed regression case: a directory (a scenario, whose
/// scenario.yaml says what to expect) or a `migrate-*.yaml` file, under
/// `tests/fuzz/regressions/`.
#[test]
fn committed_regression_cases_stay_fixed() {
    let root = repo().join("tests/fuzz/regressions");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut failures = Vec::new();
    for p in &entries {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let (case, expect) = if p.is_dir() {
            let scenario = std::fs::read(p.join("scenario.yaml")).unwrap();
            let files = yaml_files(p);
            (Case::Scenario { files }, expected(&scenario, &name))
        } else {
            let bytes = std::fs::read(p).unwrap();
            let expect = expected(&bytes, &name);
            let file = "input.yaml".into();
            (Case::Migrate { file, bytes }, expect)
        };
        match oracle::run(&case, Duration::from_millis(DEFAULT_LIMIT_MS)) {
            Ok(o) if o == expect => {}
            Ok(o) => failures.push(format!("{name}: {o:?}, expected {expect:?}")),
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(entries.len() >= 10, "the regression cases are committed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
