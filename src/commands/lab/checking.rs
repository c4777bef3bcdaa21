//! Checking the current exercise, once or at every save.

use super::*;

use crate::implementations::Implementation;

/// One check of the exercise; returns the exit code and whether the
/// workspace moved on to another exercise.
pub(super) async fn check_once(
    arg: &WorkspaceArg,
    on: &OnArgs,
    implementation: Implementation,
) -> Result<(i32, bool), CourseError> {
    let mut o = open(arg)?;
    let place = on_cluster::place(&o.lab, on, o.ws.progress.cluster.as_ref())?;
    if place.is_some() && !implementation.is_spec() {
        return Err(CourseError::AsOnCluster(implementation.name()));
    }
    let cluster = on_cluster::connect(place.as_ref()).await?;
    let ex = o.exercise().clone();
    // An exercise started without the cluster breaks the lab at its first
    // check there. A move refused there leaves the workspace where it runs.
    on_cluster::enter(&mut o.ws, &o.lab, o.index, cluster.as_ref()).await?;
    if o.ws.progress.cluster != place {
        o.ws.progress.cluster = place;
        o.ws.save()?;
    }
    let dir = o.ws.dir_of(&ex);
    let total = o.lab.exercises.len();
    let answering = if implementation.is_spec() {
        String::new()
    } else {
        format!(", answering as {implementation}")
    };
    println!(
        "Checking exercise {} of {total}: {} ({}) on {}{answering}",
        o.index + 1,
        ex.title,
        o.shown.display(),
        on_cluster::checked_on(cluster.as_ref(), &ex)
    );
    let checked = match &cluster {
        Some(c) => live::exercise(c, &ex, &dir, &o.shown).await,
        None => check::exercise(&ex, &dir, &o.shown, implementation).await,
    };
    let outcome = match checked {
        Ok(c) => c,
        Err(CheckError::Bad(d)) => {
            let unpinned = check::unpinned(&ex, &dir);
            if unpinned.is_empty() {
                println!("{d}");
            } else {
                for l in &unpinned {
                    println!("{l}");
                }
            }
            println!(
                "✗ your files are not valid input yet: fix what is named above, then check again"
            );
            return Ok((exit::BAD_INPUT, false));
        }
        Err(CheckError::Recorded(e)) => {
            println!("{e}");
            println!(
                "✗ the recorded cluster state cannot be read: fix what is named above, or start over with `gwlab lab reset --exercise`"
            );
            return Ok((exit::BAD_INPUT, false));
        }
        Err(e) => return Err(CourseError::Check(e)),
    };
    // Where the exercise asks, the student's route under each implementation.
    if cluster.is_none() && !ex.compare.is_empty() && ex.doctor.is_none() {
        match check::compare(&dir, &ex.compare).await {
            Ok(lines) => {
                println!("Your route, answered as each implementation does:");
                for l in lines.iter().skip(1) {
                    println!("  {l}");
                }
            }
            Err(CheckError::Bad(_)) => {}
            Err(e) => return Err(CourseError::Check(e)),
        }
    }
    // A check that could not run here says nothing of the student's work.
    if !outcome.passed && !outcome.missing_features.is_empty() {
        for l in &outcome.lines {
            println!("{l}");
        }
        println!(
            "✗ not checked: the cluster lacks {}; check on gwlab's reference gateway with `{}`",
            outcome.missing_features.join(", "),
            command("check --target embedded", &o.given)
        );
        return Ok((exit::BAD_INPUT, false));
    }
    if !outcome.passed {
        println!("Not solved yet:");
        for l in &outcome.lines {
            println!("  {l}");
        }
        println!(
            "A hint: {}   (hints given so far: {} of {})",
            command("hint", &o.given),
            o.ws.progress.hints.get(&ex.id).copied().unwrap_or(0),
            ex.hints.len()
        );
        return Ok((exit::FAILED, false));
    }
    println!(
        "✓ Solved: {} ({} {})",
        ex.title,
        crate::diag::counted(outcome.total, "expectation"),
        if outcome.total == 1 { "holds" } else { "hold" }
    );
    for p in &outcome.power {
        println!("  {p}");
    }
    // Not put back (the cluster did not answer): said, kept, tried again.
    on_cluster::put_back(&mut o.ws, &ex.id, true).await?;
    if !o.ws.progress.done.contains(&ex.id) {
        o.ws.progress.done.push(ex.id.clone());
    }
    let next = o
        .lab
        .exercises
        .iter()
        .position(|e| !o.ws.progress.done.contains(&e.id));
    let moved = match next {
        Some(n) if o.lab.exercises[n].id != o.ws.progress.current => {
            o.ws.progress.current = o.lab.exercises[n].id.clone();
            true
        }
        _ => false,
    };
    o.ws.save()?;
    println!("{} of {total} exercises done.", o.ws.progress.done.len());
    match next {
        Some(n) => {
            println!();
            println!("Next:");
            on_cluster::enter(&mut o.ws, &o.lab, n, cluster.as_ref()).await?;
            present(&o.ws, &o.lab, n);
        }
        None => println!("Every exercise of lab {} is solved. Well done!", o.lab.id),
    }
    Ok((exit::OK, moved))
}

/// Checks, then again at every change of the current exercise's files,
/// following the student to the next exercise; ends when all are solved.
pub(super) async fn watch(
    arg: &WorkspaceArg,
    on: &OnArgs,
    implementation: Implementation,
) -> Result<i32, CourseError> {
    // After a move to the next exercise, watch the workspace, not the old
    // exercise directory.
    let mut arg = WorkspaceArg {
        dir: arg.dir.clone(),
        catalogue: arg.catalogue.clone(),
    };
    loop {
        // Taken before the check, so that a save during it is not missed.
        let now = open(&arg)?;
        let before_check = fingerprint(&now.ws.dir_of(now.exercise()));
        let (_, moved) = check_once(&arg, on, implementation).await?;
        let o = open(&arg)?;
        if moved && o.ws.root != arg.dir {
            arg.dir = o.ws.root.clone();
        }
        if o.lab
            .exercises
            .iter()
            .all(|e| o.ws.progress.done.contains(&e.id))
        {
            return Ok(exit::OK);
        }
        let o = open(&arg)?;
        let dir = o.ws.dir_of(o.exercise());
        // A new exercise is watched from now; the same one from before its check.
        let before = if moved {
            fingerprint(&dir)
        } else {
            before_check
        };
        // A lab broken on the cluster is fixed with kubectl, not in files:
        // checked again every little while too.
        let on_lab = o.ws.progress.cluster.is_some() && o.exercise().fault.is_some();
        println!(
            "Watching {}/ for changes{} (Ctrl-C to stop)",
            o.shown.display(),
            if on_lab {
                format!(", and the lab every {} s", RECHECK.as_secs())
            } else {
                String::new()
            }
        );
        let since = std::time::Instant::now();
        // Polling: a few files, twice a second, and no watcher dependency.
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if fingerprint(&dir) != before || (on_lab && since.elapsed() >= RECHECK) {
                break;
            }
        }
        // An editor saves in steps (a temporary file, a rename): check once
        // the files have stopped changing.
        let mut last = fingerprint(&dir);
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = fingerprint(&dir);
            if now == last {
                break;
            }
            last = now;
        }
        println!();
    }
}

/// How often `--watch` checks again a lab broken on the cluster.
const RECHECK: Duration = Duration::from_secs(15);

/// Names, sizes and modification times of a directory's files.
pub(super) fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}
