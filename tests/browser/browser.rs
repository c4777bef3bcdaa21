//! A real browser renders the HTML report: headless Chromium (Debian's
//! `chromium`; another with GWLAB_CHROMIUM=PATH) takes a screenshot of the
//! showcase fixture's report (one failed probe, one split, one route not
//! attached). The screenshot is decoded and must not be blank, must show the
//! failure colour, and must change where the failed probe's name is painted;
//! the DOM Chromium built holds the probe's name and its routing trace.
//! Without Chromium the test skips, saying why. (The screenshots in
//! docs/images come from scripts/report-screenshots.sh.)

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::bin::{gwlab, text};

const PROBE: &str = "the API answers /apiv2";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 1400;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GWLAB_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            ["chromium", "chromium-browser", "google-chrome"].map(|name| dir.join(name))
        })
        .find(|p| p.is_file())
}

/// Chromium, headless, on `page` with `what` (`--screenshot=FILE` or `--dump-dom`).
fn chromium_on(browser: &Path, profile: &Path, page: &Path, what: &str) -> Vec<u8> {
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--window-size={WIDTH},{HEIGHT}"),
            what,
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// RGB pixels of a PNG screenshot, with its size.
fn pixels(png_file: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let file = std::io::BufReader::new(std::fs::File::open(png_file).unwrap());
    let mut reader = png::Decoder::new(file).read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
    let info = reader.next_frame(&mut buf).expect("one frame");
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

#[test]
fn chromium_renders_the_failure_the_split_and_the_unattached_route() {
    let Some(browser) = chromium() else {
        crate::common::skip::not_run(
            "no chromium on PATH (apt-get install -y chromium, or set GWLAB_CHROMIUM)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report-showcase");
    let o = gwlab(&[
        "test",
        fixture.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(
        html.matches(PROBE).count(),
        1,
        "the probe's name is on the page once"
    );
    let profile = dir.path().join("profile");

    let shot = dir.path().join("report.png");
    chromium_on(
        &browser,
        &profile,
        &page,
        &format!("--screenshot={}", shot.display()),
    );
    let (w, h, px) = pixels(&shot);
    assert_eq!((w, h), (WIDTH, HEIGHT));
    // Not blank: much of the page differs from its background, in many colours.
    let background = px[0];
    let inked = px.iter().filter(|p| **p != background).count();
    assert!(
        inked * 50 > px.len(),
        "only {inked} of {} pixels differ from the background",
        px.len()
    );
    let colours: std::collections::BTreeSet<[u8; 3]> = px.iter().copied().collect();
    assert!(colours.len() > 100, "{} colours", colours.len());
    // The failure colour (the failed scenario's frame, the route not attached).
    let red = px
        .iter()
        .filter(|[r, g, b]| *r > 150 && *g < 90 && *b < 90)
        .count();
    assert!(red > 500, "{red} pixels in the failure colour");

    // The failed probe's name is painted: blanking it changes the screenshot
    // (and nothing else moves: same length, same layout).
    let blanked = dir.path().join("blanked.html");
    std::fs::write(&blanked, html.replace(PROBE, &" ".repeat(PROBE.len()))).unwrap();
    let blank_shot = dir.path().join("blanked.png");
    chromium_on(
        &browser,
        &profile,
        &blanked,
        &format!("--screenshot={}", blank_shot.display()),
    );
    let (_, _, other) = pixels(&blank_shot);
    let changed: Vec<usize> = (0..px.len()).filter(|&i| px[i] != other[i]).collect();
    assert!(changed.len() > 100, "{} pixels changed", changed.len());
    let rows: Vec<u32> = changed.iter().map(|&i| i as u32 / WIDTH).collect();
    let (top, bottom) = (rows[0], rows[rows.len() - 1]);
    assert!(
        bottom - top < 40,
        "only the probe's line changed: rows {top} to {bottom}"
    );

    // The DOM the browser built holds the probe's name and its trace as text.
    let dom = String::from_utf8(chromium_on(&browser, &profile, &page, "--dump-dom")).unwrap();
    assert!(dom.contains(PROBE), "{dom}");
    assert!(dom.contains("path /apiv2 does not match PathPrefix /api"));
    assert!(dom.contains("not attached: NoMatchingParent"));
    println!(
        "screenshot {} bytes, {inked} inked pixels, {} colours, probe line at rows {top}-{bottom}",
        std::fs::metadata(&shot).unwrap().len(),
        colours.len()
    );
}
