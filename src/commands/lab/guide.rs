//! Hints, the solution as a diff, resets and progress.

use super::*;

pub(super) fn hint(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    let mut o = open(arg)?;
    let ex = o.exercise().clone();
    if ex.hints.is_empty() {
        println!(
            "Exercise {} has no hints; `gwlab lab solution` shows the answer.",
            ex.title
        );
        return Ok(exit::OK);
    }
    let shown = o.ws.progress.hints.get(&ex.id).copied().unwrap_or(0);
    if shown >= ex.hints.len() {
        for (i, h) in ex.hints.iter().enumerate() {
            println!("Hint {} of {}: {}", i + 1, ex.hints.len(), h.trim());
        }
        println!(
            "No more hints; `{}` shows the answer.",
            command("solution", &o.given)
        );
        return Ok(exit::OK);
    }
    println!(
        "Hint {} of {}: {}",
        shown + 1,
        ex.hints.len(),
        ex.hints[shown].trim()
    );
    o.ws.progress.hints.insert(ex.id.clone(), shown + 1);
    o.ws.save()?;
    Ok(exit::OK)
}

pub(super) fn solution(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    let o = open(arg)?;
    let ex = o.exercise();
    let mine = o.ws.student_files(ex);
    println!(
        "Solution of exercise {}: {} (- your lines, + the solution's)",
        o.index + 1,
        ex.title
    );
    for (name, bytes) in &ex.solution {
        let theirs = String::from_utf8_lossy(bytes);
        let path = o.shown.join(name);
        match mine.get(name) {
            None => {
                println!("\n{} (you have no such file):", path.display());
                for l in theirs.lines() {
                    println!("+ {l}");
                }
            }
            Some(m) => {
                let m = String::from_utf8_lossy(m);
                let d = diff::render(&m, &theirs);
                if d.is_empty() {
                    println!("\n{}: the same as the solution", path.display());
                } else if diff::same_yaml(&m, &theirs) {
                    println!(
                        "\n{}: the same as the solution, written another way (style, quoting or comments)",
                        path.display()
                    );
                } else {
                    println!("\n{}:", path.display());
                    for l in d {
                        println!("{l}");
                    }
                }
            }
        }
    }
    for name in mine.keys().filter(|n| !ex.solution.contains_key(*n)) {
        println!(
            "\n{}: not in the solution (the check reads every manifest here)",
            o.shown.join(name).display()
        );
    }
    Ok(exit::OK)
}

pub(super) async fn reset(
    arg: &WorkspaceArg,
    only_exercise: bool,
    on: &OnArgs,
) -> Result<i32, CourseError> {
    let mut o = open(arg)?;
    let place = on_cluster::place(&o.lab, on, o.ws.progress.cluster.as_ref())?;
    let targets: Vec<Exercise> = if only_exercise {
        vec![o.exercise().clone()]
    } else {
        o.lab.exercises.clone()
    };
    // What exercises changed on a cluster goes back first, wherever they ran.
    let mut kept = Vec::new();
    for ex in &targets {
        if on_cluster::put_back(&mut o.ws, &ex.id, false).await? == on_cluster::PutBack::Kept {
            kept.push(ex.id.clone());
        }
    }
    let cluster = on_cluster::connect(place.as_ref()).await?;
    o.ws.progress.cluster = place;
    for ex in &targets {
        if let Some(to) = o.ws.backup(ex)? {
            println!("your files of {} are kept in {}", ex.id, to.display());
        }
        o.ws.progress.done.retain(|d| d != &ex.id);
        o.ws.progress.hints.remove(&ex.id);
    }
    let first = if only_exercise { o.index } else { 0 };
    o.ws.progress.current = o.lab.exercises[first].id.clone();
    o.ws.save()?;
    println!(
        "{} starts over.",
        if only_exercise {
            "The exercise"
        } else {
            "The lab"
        }
    );
    println!();
    on_cluster::enter(&mut o.ws, &o.lab, first, cluster.as_ref()).await?;
    present(&o.ws, &o.lab, first);
    if !kept.is_empty() {
        println!(
            "✗ the lab is still broken by {}: run `gwlab lab reset` again once the cluster answers",
            kept.join(", ")
        );
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

pub(super) fn status(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    let o = open(arg)?;
    let p = &o.ws.progress;
    println!(
        "Lab {}: {} ({}), {} of {} exercises done",
        o.lab.id,
        o.lab.title,
        o.lab.time,
        p.done.len(),
        o.lab.exercises.len()
    );
    match &p.cluster {
        None => println!("Checks run on the embedded gateway."),
        Some(c) => println!(
            "Checks run on the cluster: {}",
            on_cluster::describe_place(c)
        ),
    }
    for (id, broken) in &p.breaks {
        println!("gwlab changed on the cluster for {id} (put back when solved or reset):");
        for ch in &broken.changes {
            println!("  {}", ch.describe());
        }
    }
    for (i, ex) in o.lab.exercises.iter().enumerate() {
        let hints = p.hints.get(&ex.id).copied().unwrap_or(0);
        let extra = if hints > 0 {
            format!(", {} used", crate::diag::counted(hints, "hint"))
        } else {
            String::new()
        };
        println!(
            "  {} {:>2}. {} ({}{extra})",
            mark(&o.ws, ex),
            i + 1,
            ex.title,
            ex.time
        );
    }
    let cur = &o.lab.exercises[o.index];
    if !p.done.contains(&cur.id) {
        println!(
            "Now: {}/ ({} there), then `{}`",
            shown_dir(&o.ws.root, &cur.id).display(),
            README,
            command("check", &o.given)
        );
    }
    Ok(exit::OK)
}
