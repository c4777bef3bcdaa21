//! Where a workspace's checks run, and the lab cluster's side of an exercise:
//! breaking the lab when an exercise that breaks it starts, and putting it
//! back when the exercise is solved or reset.

use super::*;

use crate::cli::{TargetArgs, TargetKind};
use crate::course::breaks;
use crate::course::live::Cluster;
use crate::course::workspace::{Broken, ClusterPlace};

/// Where checks run, for the lab commands that start or check exercises
/// (default: where the workspace was started, else what the lab needs, else
/// embedded): `gwlab test`'s flags.
pub type OnArgs = TargetArgs;

/// The cluster the checks of `lab` run on (`None`: the embedded gateway).
/// Asked for (as `gwlab test` chooses: --target, GWLAB_TARGET,
/// --kubeconfig/--context) first, then where the workspace runs (`saved`),
/// then the lab's need; a lab made by `gwlab up` alone does not move a lab
/// that runs on either to the cluster.
pub(super) fn place(
    lab: &Lab,
    on: &OnArgs,
    saved: Option<&ClusterPlace>,
) -> Result<Option<ClusterPlace>, CourseError> {
    let asked = on.asked();
    let (kind, why) = match (&asked, saved, lab.target) {
        (Some(a), _, _) => a.clone(),
        (None, Some(_), _) => (TargetKind::Cluster, "the workspace runs there".into()),
        (None, None, LabTarget::Cluster) => (TargetKind::Cluster, "the lab needs it".into()),
        (None, None, _) => (TargetKind::Embedded, "the default".into()),
    };
    match (kind, lab.target) {
        (TargetKind::Embedded, LabTarget::Cluster) => Err(CourseError::NeedsCluster {
            lab: lab.id.clone(),
            why,
        }),
        (TargetKind::Cluster, LabTarget::Embedded) => Err(CourseError::EmbeddedOnly {
            lab: lab.id.clone(),
            why,
        }),
        (TargetKind::Embedded, _) => Ok(None),
        (TargetKind::Cluster, _) => Ok(Some(match saved {
            Some(s) if !on.cluster.given() => ClusterPlace {
                gateway_address: on
                    .gateway_address
                    .as_ref()
                    .map(ToString::to_string)
                    .or_else(|| s.gateway_address.clone()),
                ..s.clone()
            },
            _ => named(on),
        })),
    }
}

/// The cluster the arguments name: --kubeconfig/--context, else the lab of
/// --name.
pub(super) fn named(on: &OnArgs) -> ClusterPlace {
    ClusterPlace {
        name: on.name.clone(),
        kubeconfig: on
            .cluster
            .kubeconfig
            .as_ref()
            .map(|k| std::path::absolute(k).unwrap_or_else(|_| k.clone())),
        context: on.cluster.context.clone(),
        gateway_address: on.gateway_address.as_ref().map(ToString::to_string),
    }
}

/// A place as the student named it, without reaching it.
pub(super) fn describe_place(p: &ClusterPlace) -> String {
    match (&p.kubeconfig, &p.context) {
        (None, None) => format!("the lab {} of `gwlab up`", p.name),
        (k, c) => {
            let mut parts = Vec::new();
            if let Some(k) = k {
                parts.push(format!("kubeconfig {}", k.display()));
            }
            if let Some(c) = c {
                parts.push(format!("context {c}"));
            }
            parts.join(", ")
        }
    }
}

/// Connects to the place chosen, if it is a cluster.
pub(super) async fn connect(place: Option<&ClusterPlace>) -> Result<Option<Cluster>, CourseError> {
    match place {
        None => Ok(None),
        Some(p) => Cluster::connect(p)
            .await
            .map(Some)
            .map_err(CourseError::Check),
    }
}

/// Where checks run, for a first line.
pub(super) fn checked_on(cluster: Option<&Cluster>, ex: &Exercise) -> String {
    match (cluster, &ex.doctor) {
        (Some(c), _) => format!("the cluster ({})", c.describe()),
        (None, Some(d)) => format!(
            "the recorded cluster state in {}/ (gwlab doctor --from)",
            d.dir
        ),
        (None, None) => "the embedded gateway".into(),
    }
}

/// Refuses, before anything is written, a lab whose exercises would break
/// objects gwlab did not make (every exercise's, not only the first's).
pub(super) async fn preflight(lab: &Lab, cluster: Option<&Cluster>) -> Result<(), CourseError> {
    let Some(c) = cluster else {
        return Ok(());
    };
    for ex in &lab.exercises {
        if let Some(fault) = ex.fault {
            breaks::preflight(&c.client, fault, &ex.id, &c.ours())
                .await
                .map_err(|e| {
                    CourseError::Check(crate::course::check::CheckError::Break(Box::new(e)))
                })?;
        }
    }
    Ok(())
}

/// The same cluster, whatever address probes are sent to.
fn same_cluster(a: &ClusterPlace, b: &ClusterPlace) -> bool {
    (&a.name, &a.kubeconfig, &a.context) == (&b.name, &b.kubeconfig, &b.context)
}

/// Starts exercise `index`: its files, and on a cluster the break it puts
/// into the lab (once: an exercise already broken is left as it is).
pub(super) async fn enter(
    ws: &mut Workspace,
    lab: &Lab,
    index: usize,
    cluster: Option<&Cluster>,
) -> Result<(), CourseError> {
    let ex = &lab.exercises[index];
    ws.materialize(ex)?;
    let (Some(c), Some(fault)) = (cluster, ex.fault) else {
        return Ok(());
    };
    // Broken once: not again while broken, nor once solved; and a break
    // recorded on another cluster is checked there, not solved by moving.
    if let Some(b) = ws.progress.breaks.get(&ex.id) {
        if !same_cluster(&b.cluster, &c.place) {
            return Err(CourseError::BrokenElsewhere {
                exercise: ex.id.clone(),
                place: describe_place(&b.cluster),
                now: describe_place(&c.place),
            });
        }
        return Ok(());
    }
    if ws.progress.done.contains(&ex.id) {
        return Ok(());
    }
    put_back_leftovers(ws).await?;
    // One break at a time: another exercise's still in the lab is refused.
    if let Some((other, b)) = ws.progress.breaks.iter().find(|(id, _)| **id != ex.id) {
        return Err(CourseError::OtherBreak {
            exercise: ex.id.clone(),
            other: other.clone(),
            place: describe_place(&b.cluster),
        });
    }
    let breaks::Applied { changes, adopted } = breaks::apply(&c.client, fault, &ex.id, &c.ours())
        .await
        .map_err(|e| CourseError::Check(crate::course::check::CheckError::Break(Box::new(e))))?;
    if adopted {
        println!(
            "This exercise's break was already in the lab on the cluster ({}), recorded on the objects; gwlab takes it over:",
            c.describe()
        );
    } else {
        println!(
            "This exercise broke the lab on the cluster ({}); gwlab changed:",
            c.describe()
        );
    }
    for ch in &changes {
        println!("  {}", ch.describe());
    }
    println!(
        "Solving the exercise, or `gwlab lab reset --exercise`, puts back what is still as gwlab left it."
    );
    println!();
    ws.progress.breaks.insert(
        ex.id.clone(),
        Broken {
            cluster: c.place.clone(),
            changes,
        },
    );
    ws.save()
}

/// Whether what an exercise changed on the cluster is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PutBack {
    /// Put back (or nothing was recorded).
    Done,
    /// Not reached or refused: said so, and the record is kept to try again.
    Kept,
}

/// Puts back what gwlab changed on the cluster for `exercise`. After a
/// solve (`solved`), a field the student changed stays as the student left
/// it; after a reset, every field goes back. A cluster it cannot reach or
/// that refuses stops nothing: it says so and keeps the record, to try again
/// at the next check or reset.
pub(super) async fn put_back(
    ws: &mut Workspace,
    exercise: &str,
    solved: bool,
) -> Result<PutBack, CourseError> {
    let Some(broken) = ws.progress.breaks.get(exercise).cloned() else {
        return Ok(PutBack::Done);
    };
    let done = async {
        let c = Cluster::connect(&broken.cluster).await?;
        breaks::restore(&c.client, exercise, &broken.changes, solved)
            .await
            .map_err(|e| CheckError::Break(Box::new(e)))
    };
    let done = match done.await {
        Ok(done) => done,
        Err(e) => {
            println!(
                "warning: gwlab could not put back what {exercise} changed on the cluster ({}): {e}; gwlab keeps the record and tries again at the next `gwlab lab check` or `gwlab lab reset`",
                describe_place(&broken.cluster)
            );
            return Ok(PutBack::Kept);
        }
    };
    for r in &done.restored {
        println!("gwlab put back: {r}");
    }
    for l in &done.left {
        println!("gwlab left: {l}");
    }
    ws.progress.breaks.remove(exercise);
    ws.save()?;
    Ok(PutBack::Done)
}

/// Tries again to put back what solved exercises changed and could not be
/// put back then.
async fn put_back_leftovers(ws: &mut Workspace) -> Result<(), CourseError> {
    let left: Vec<String> = ws
        .progress
        .breaks
        .keys()
        .filter(|id| ws.progress.done.contains(id))
        .cloned()
        .collect();
    for id in left {
        put_back(ws, &id, true).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(target: LabTarget) -> Lab {
        Lab {
            id: "demo".into(),
            title: "Demo".into(),
            goal: String::new(),
            time: "5m".into(),
            target,
            exercises: Vec::new(),
        }
    }

    fn on(target: Option<TargetKind>, kubeconfig: Option<&str>) -> OnArgs {
        OnArgs {
            target,
            name: "gwlab".into(),
            cluster: crate::cli::ClusterArgs {
                kubeconfig: kubeconfig.map(PathBuf::from),
                context: None,
            },
            gateway_address: None,
        }
    }

    fn kubeconfig(p: Option<ClusterPlace>) -> Option<PathBuf> {
        p.and_then(|p| p.kubeconfig)
    }

    #[test]
    fn the_cluster_is_used_when_asked_kept_when_started_there_and_needed_by_cluster_labs() {
        if std::env::var_os("GWLAB_TARGET").is_some() {
            eprintln!("SKIP: GWLAB_TARGET is set");
            return;
        }
        let either = lab(LabTarget::Either);
        assert_eq!(place(&either, &on(None, None), None).unwrap(), None);
        let asked = place(&either, &on(None, Some("/k/a")), None).unwrap();
        assert_eq!(kubeconfig(asked.clone()), Some(PathBuf::from("/k/a")));
        // Kept with no flag; a --target alone keeps the saved kubeconfig, a
        // new one replaces it; embedded leaves the cluster.
        let saved = asked.as_ref();
        assert_eq!(place(&either, &on(None, None), saved).unwrap(), asked);
        let again = place(&either, &on(Some(TargetKind::Cluster), None), saved).unwrap();
        assert_eq!(kubeconfig(again), Some(PathBuf::from("/k/a")));
        let other = place(&either, &on(None, Some("/k/b")), saved).unwrap();
        assert_eq!(kubeconfig(other), Some(PathBuf::from("/k/b")));
        let embedded = place(&either, &on(Some(TargetKind::Embedded), None), saved).unwrap();
        assert_eq!(embedded, None);

        let cluster = lab(LabTarget::Cluster);
        let needed = place(&cluster, &on(None, None), None).unwrap().unwrap();
        assert_eq!((needed.name.as_str(), needed.kubeconfig), ("gwlab", None));
        assert!(matches!(
            place(&cluster, &on(Some(TargetKind::Embedded), None), None),
            Err(CourseError::NeedsCluster { .. })
        ));
        assert!(matches!(
            place(&lab(LabTarget::Embedded), &on(None, Some("/k/a")), None),
            Err(CourseError::EmbeddedOnly { .. })
        ));
    }
}
