//! Listing the catalogue, starting a lab, verifying a catalogue.

use super::*;

pub(super) fn list(arg: &CatalogueArg, dir: &Path) -> Result<i32, CourseError> {
    let cat = catalogue(arg)?;
    let labs = cat.labs()?;
    let progress = Workspace::open(dir).ok().map(|(ws, _)| ws);
    for lab in &labs {
        let mut line = format!(
            "{:<24} {} ({}, {} exercises, {})",
            lab.id,
            lab.title,
            lab.time,
            lab.exercises.len(),
            target_word(lab)
        );
        if let Some(ws) = progress.as_ref().filter(|w| w.progress.lab == lab.id) {
            line.push_str(&format!(
                ": {} of {} done in {}",
                ws.progress.done.len(),
                lab.exercises.len(),
                ws.root.display()
            ));
        }
        println!("{line}");
        for (i, ex) in lab.exercises.iter().enumerate() {
            let mark = progress
                .as_ref()
                .filter(|w| w.progress.lab == lab.id)
                .map(|w| mark(w, ex))
                .unwrap_or(' ');
            println!("  {mark} {:>2}. {} ({})", i + 1, ex.title, ex.time);
        }
    }
    if labs.is_empty() {
        println!("no labs in {}", cat.root.display());
    } else {
        println!("start one with: gwlab lab start LAB [--dir DIR]");
    }
    Ok(exit::OK)
}

/// Where a lab's checks run: troubleshooting labs, checked by doctor,
/// judge recorded cluster states without a cluster; nothing is served.
pub(super) fn target_word(lab: &Lab) -> &'static str {
    let recorded = lab.exercises.iter().all(|e| e.doctor.is_some());
    match (lab.target, recorded) {
        (LabTarget::Cluster, _) => "needs a cluster",
        (LabTarget::Embedded, false) => "embedded gateway",
        (LabTarget::Embedded, true) => "recorded cluster states",
        (LabTarget::Either, false) => "embedded gateway or a cluster",
        (LabTarget::Either, true) => "recorded cluster states or a cluster",
    }
}

pub(super) fn mark(ws: &Workspace, ex: &Exercise) -> char {
    if ws.progress.done.contains(&ex.id) {
        '✓'
    } else if ws.progress.current == ex.id {
        '→'
    } else {
        ' '
    }
}

/// A directory as a sentence names it: `.` is "this directory", not a dot
/// in the middle of a sentence.
fn directory_name(dir: &Path) -> String {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        "this directory".to_string()
    } else {
        format!("{}/", dir.display().to_string().trim_end_matches('/'))
    }
}

pub(super) async fn start(
    id: &str,
    dir: Option<&Path>,
    arg: &CatalogueArg,
    on: &OnArgs,
) -> Result<i32, CourseError> {
    let cat = catalogue(arg)?;
    let lab = cat.lab(id)?;
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(id));
    // The cluster is reached before the workspace is made: nothing is left
    // half started.
    let place = on_cluster::place(&lab, on, None)?;
    let cluster = on_cluster::connect(place.as_ref()).await?;
    on_cluster::preflight(&lab, cluster.as_ref()).await?;
    let mut ws = Workspace::create(&dir, &lab, &cat)?;
    ws.progress.cluster = place;
    ws.save()?;
    println!(
        "Started lab {}: {} ({}, {}) in {}, checked on {}",
        lab.id,
        lab.title,
        lab.time,
        crate::diag::counted(lab.exercises.len(), "exercise"),
        directory_name(&dir),
        on_cluster::checked_on(cluster.as_ref(), &lab.exercises[0])
    );
    println!();
    on_cluster::enter(&mut ws, &lab, 0, cluster.as_ref()).await?;
    present(&ws, &lab, 0);
    Ok(exit::OK)
}

/// Prints an exercise's heading, where its files are, and its task.
pub(super) fn present(ws: &Workspace, lab: &Lab, index: usize) {
    let ex = &lab.exercises[index];
    let dir = shown_dir(&ws.root, &ex.id);
    println!(
        "Exercise {} of {}: {} ({}), in {}/",
        index + 1,
        lab.exercises.len(),
        ex.title,
        ex.time,
        dir.display()
    );
    println!();
    for l in ex.task.trim_end().lines() {
        println!("    {l}");
    }
    println!();
    println!("Check your work with: {}", command("check", &ws.root));
}

/// `gwlab lab SUB DIR`, leaving out a DIR of `.`.
pub(super) fn command(sub: &str, dir: &Path) -> String {
    if dir == Path::new(".") {
        format!("gwlab lab {sub}")
    } else {
        format!("gwlab lab {sub} {}", dir.display())
    }
}

pub(super) async fn verify_catalogue(dir: &Path, on: &OnArgs) -> Result<i32, CourseError> {
    let cat = Catalogue::from_dir(dir)?;
    let labs = cat.labs()?;
    // A cluster only when asked: verifying never reaches for a lab by itself.
    let cluster = match on.asked() {
        Some((crate::cli::TargetKind::Cluster, _)) => {
            on_cluster::connect(Some(&on_cluster::named(on))).await?
        }
        _ => None,
    };
    if labs.is_empty() {
        println!(
            "no labs in {} (a lab is a directory with lab.yaml)",
            dir.display()
        );
        return Ok(exit::BAD_INPUT);
    }
    let verdicts = verify::verify(&cat, &labs, cluster.as_ref()).await?;
    let mut bad = 0;
    for v in &verdicts {
        if v.problems.is_empty() {
            println!("ok   {}/{}: {}", v.lab, v.exercise, v.summary);
        } else {
            bad += 1;
            println!("FAIL {}/{}", v.lab, v.exercise);
            for p in &v.problems {
                println!("       {p}");
            }
        }
    }
    println!(
        "{} in {}: {} sound, {bad} with problems",
        crate::diag::counted(verdicts.len(), "exercise"),
        crate::diag::counted(labs.len(), "lab"),
        verdicts.len() - bad
    );
    Ok(if bad == 0 { exit::OK } else { exit::FAILED })
}
