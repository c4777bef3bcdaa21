//! `gwlab lock resolve`: for maintainers with network, what every pinned tag
//! points at now (asked of its registry over the OCI distribution API) and
//! whether every pinned file still has its sha256; with `--write`, the
//! digests written into the lock file, every other line kept.

use serde::Serialize;

use crate::cli::{LockArgs, LockCommand, OutputFormat, ResolveArgs};
use crate::exit;
use crate::lab::cache::sha256_hex;
use crate::lab::client::http_client;
use crate::lab::lock::{Lock, LockedFile, LockedImage};
use crate::lab::registry::{self, ImageRef, Registry};

pub async fn run(args: &LockArgs) -> i32 {
    match &args.command {
        LockCommand::Resolve(a) => resolve(a).await,
    }
}

/// What a registry says of one image's tag, against the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageCheck {
    name: String,
    image: String,
    pinned: Option<String>,
    /// What the tag points at now.
    current: Option<String>,
    /// `application/vnd.oci.image.index.v1+json`, ...
    media_type: Option<String>,
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    /// The tag points at the pinned digest.
    Same,
    /// The tag points at another digest than the pinned one.
    Moved,
    /// The lock pins no digest; this is the one to pin.
    Unpinned,
    /// The registry could not be asked, or the file not fetched.
    Failed,
    /// The file's sha256 and size differ from the lock's.
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileCheck {
    repo: String,
    tag: String,
    path: String,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<String>,
    verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Report {
    images: Vec<ImageCheck>,
    files: Vec<FileCheck>,
    written: Option<String>,
}

async fn resolve(args: &ResolveArgs) -> i32 {
    let lock = match Lock::chosen(args.lock.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let registry = Registry::new(registry::http_client());
    let mut images = Vec::new();
    for i in &lock.images {
        images.push(check_image(&registry, i).await);
    }
    let http = http_client();
    let mut files = Vec::new();
    for f in &lock.files {
        files.push(check_file(&http, f, args.mirror.as_deref()).await);
    }
    let to_pin: Vec<&ImageCheck> = images
        .iter()
        .filter(|i| matches!(i.verdict, Verdict::Moved | Verdict::Unpinned))
        .collect();
    let mut written = None;
    if args.write && !to_pin.is_empty() {
        let path = args
            .lock
            .as_ref()
            .expect("clap requires --lock with --write");
        match write_digests(path, &to_pin) {
            Ok(()) => written = Some(path.display().to_string()),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::FAILED;
            }
        }
    }
    let failed = images.iter().any(|i| i.verdict == Verdict::Failed)
        || files
            .iter()
            .any(|f| matches!(f.verdict, Verdict::Failed | Verdict::Changed));
    let differs = !to_pin.is_empty() && written.is_none();
    let report = Report {
        images,
        files,
        written,
    };
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serialises")
        ),
        OutputFormat::Text => print!("{}", render(&report)),
    }
    if failed || differs {
        exit::FAILED
    } else {
        exit::OK
    }
}

async fn check_image(registry: &Registry, i: &LockedImage) -> ImageCheck {
    let mut check = ImageCheck {
        name: i.name.clone(),
        image: i.image.clone(),
        pinned: i.digest.clone(),
        current: None,
        media_type: None,
        verdict: Verdict::Failed,
        error: None,
    };
    let reference = match ImageRef::parse(&i.image) {
        Ok(r) => r,
        Err(e) => {
            check.error = Some(e.to_string());
            return check;
        }
    };
    match registry.manifest(&reference, reference.wanted()).await {
        Ok(m) => {
            check.verdict = match &i.digest {
                Some(d) if *d == m.digest => Verdict::Same,
                Some(_) => Verdict::Moved,
                None => Verdict::Unpinned,
            };
            check.current = Some(m.digest);
            check.media_type = Some(m.media_type);
        }
        Err(e) => check.error = Some(e.to_string()),
    }
    check
}

async fn check_file(http: &reqwest::Client, f: &LockedFile, mirror: Option<&str>) -> FileCheck {
    let url = mirror.map_or_else(|| f.url.clone(), |m| f.mirror_url(m));
    let mut check = FileCheck {
        repo: f.repo.clone(),
        tag: f.tag.clone(),
        path: f.path.clone(),
        sha256: f.sha256.clone(),
        actual: None,
        verdict: Verdict::Failed,
        error: None,
    };
    let fetched = async {
        let response = http.get(&url).send().await?.error_for_status()?;
        response.bytes().await
    }
    .await;
    match fetched {
        Ok(bytes) => {
            let actual = sha256_hex(&bytes);
            check.verdict = if actual == f.sha256 && bytes.len() as u64 == f.size {
                Verdict::Same
            } else {
                Verdict::Changed
            };
            check.actual = Some(actual);
        }
        Err(e) => check.error = Some(format!("{url}: {e}")),
    }
    check
}

fn render(r: &Report) -> String {
    let mut out = String::new();
    for i in &r.images {
        let line = match i.verdict {
            Verdict::Same => format!("same    {} {}", i.image, short(i.current.as_deref())),
            Verdict::Moved => format!(
                "moved   {}: the tag points at {} now, the lock pins {}",
                i.image,
                i.current.as_deref().unwrap_or("?"),
                i.pinned.as_deref().unwrap_or("?")
            ),
            Verdict::Unpinned => format!(
                "digest  {}: {} ({}); the lock pins none",
                i.image,
                i.current.as_deref().unwrap_or("?"),
                i.media_type.as_deref().unwrap_or("?")
            ),
            _ => format!("error   {}: {}", i.image, i.error.as_deref().unwrap_or("?")),
        };
        out.push_str(&line);
        out.push('\n');
    }
    for f in &r.files {
        let line = match f.verdict {
            Verdict::Same => format!("same    {} {} {}", f.repo, f.tag, f.path),
            Verdict::Changed => format!(
                "changed {} {} {}: sha256 {} now, the lock pins {}",
                f.repo,
                f.tag,
                f.path,
                f.actual.as_deref().unwrap_or("?"),
                f.sha256
            ),
            _ => format!(
                "error   {} {} {}: {}",
                f.repo,
                f.tag,
                f.path,
                f.error.as_deref().unwrap_or("?")
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    match &r.written {
        Some(path) => out.push_str(&format!(
            "wrote the digests into {path}: review each image's `source` and `why` before committing\n"
        )),
        None if r
            .images
            .iter()
            .any(|i| matches!(i.verdict, Verdict::Moved | Verdict::Unpinned)) =>
        {
            out.push_str("`--lock FILE --write` pins the digests the registries serve now\n")
        }
        None => {}
    }
    out
}

fn short(digest: Option<&str>) -> &str {
    digest.map_or("?", |d| &d[..d.len().min(19)])
}

/// Why the lock file could not be updated.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no image entry `- name: {name}` to write the digest into")]
    NoEntry { path: String, name: String },
    #[error(
        "{path} would not be a valid lock after the change, so it was left as it was: {source}"
    )]
    Invalid {
        path: String,
        #[source]
        source: Box<crate::lab::lock::LockError>,
    },
}

/// Each image's `digest:` line set (or added under its `image:` line) and a
/// note appended to its one-line `source:`; the text is checked to be a
/// valid lock before it replaces the file.
fn write_digests(path: &std::path::Path, pins: &[&ImageCheck]) -> Result<(), WriteError> {
    let shown = path.display().to_string();
    let io = |source| WriteError::Io {
        path: shown.clone(),
        source,
    };
    let mut text = std::fs::read_to_string(path).map_err(io)?;
    let today = crate::doctor::facts::today();
    for pin in pins {
        let digest = pin.current.as_deref().expect("pinned images have a digest");
        text = set_digest(&text, &pin.name, digest, &today.to_string()).ok_or_else(|| {
            WriteError::NoEntry {
                path: shown.clone(),
                name: pin.name.clone(),
            }
        })?;
    }
    Lock::parse(&text, &shown).map_err(|source| WriteError::Invalid {
        path: shown.clone(),
        source: Box::new(source),
    })?;
    let tmp = path.with_extension("yaml.partial");
    std::fs::write(&tmp, &text).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// What `--write` appends to an image's `source:`, with the date.
const RESOLVED_NOTE: &str = "; digest read from the registry by gwlab lock resolve on ";

/// The lock text with the entry `name`'s digest set, and its `source:`
/// saying when (a note of an earlier resolve replaced); `None` without such
/// an entry.
fn set_digest(text: &str, name: &str, digest: &str, date: &str) -> Option<String> {
    let note = format!("{RESOLVED_NOTE}{date}");
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == format!("  - name: {name}"))?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("  - ") || !l.starts_with("    "))
        .map_or(lines.len(), |n| start + 1 + n);
    let mut out: Vec<String> = lines[..start + 1].iter().map(|l| l.to_string()).collect();
    let block = &lines[start + 1..end];
    let has_digest = block.iter().any(|l| l.starts_with("    digest:"));
    for l in block {
        if l.starts_with("    digest:") {
            out.push(format!("    digest: {digest}"));
        } else if let Some(source) = l.strip_prefix("    source: ") {
            let kept = source.split(RESOLVED_NOTE).next().unwrap_or(source);
            out.push(format!("    source: {kept}{note}"));
        } else {
            out.push(l.to_string());
            if !has_digest && l.starts_with("    image:") {
                out.push(format!("    digest: {digest}"));
            }
        }
    }
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    let mut joined = out.join("\n");
    if text.ends_with('\n') {
        joined.push('\n');
    }
    Some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "images:
  - name: kong
    addon: kong
    image: kong:3.9.3
    digest: sha256:old
    source: repo-info@x repos/kong
  - name: echo-basic
    addon: echo
    image: e:1
    source: gw@v1 manifests.yaml
    why: >-
      none stated
files: []
";

    #[test]
    fn a_digest_is_replaced_or_added_and_nothing_else_moves() {
        let note = format!("{RESOLVED_NOTE}2026-12-06");
        let t = set_digest(LOCK, "kong", "sha256:new", "2026-12-06").unwrap();
        assert!(t.contains(&format!(
            "    digest: sha256:new\n    source: repo-info@x repos/kong{note}\n"
        )));
        assert!(!t.contains("sha256:old"));
        let t = set_digest(&t, "echo-basic", "sha256:e", "2026-12-06").unwrap();
        assert!(t.contains(&format!("    image: e:1\n    digest: sha256:e\n    source: gw@v1 manifests.yaml{note}\n    why: >-\n      none stated\nfiles: []\n")), "{t}");
        // A second resolve replaces its own note instead of adding another.
        let again = set_digest(&t, "echo-basic", "sha256:f", "2026-12-07").unwrap();
        assert_eq!(again.matches(RESOLVED_NOTE).count(), 2, "{again}");
        assert!(again.contains(
            "manifests.yaml; digest read from the registry by gwlab lock resolve on 2026-12-07\n"
        ));
        assert!(set_digest(LOCK, "nope", "sha256:x", "").is_none());
    }
}
