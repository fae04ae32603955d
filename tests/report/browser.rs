//! The report rendered by a real headless browser (Debian's `chromium`) into a PNG, which must
//! show figures down the page. `make test` installs chromium first
//! (scripts/ensure-chromium.sh) and sets `INFERTOP_REQUIRE_CHROMIUM`, so there a missing
//! browser fails this test; elsewhere it is skipped with a message.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{fixture, report, PI};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 3000;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("chromium")).find(|p| p.is_file())
}

/// Renders `page` to `png` with chromium's headless screenshot.
fn screenshot(chromium: &Path, page: &Path, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(out.status.success() && png.is_file(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Per horizontal band of 1/`bands` of the image: pixels not white, and pixels in colour in
/// the left and in the right half.
fn bands(png: &Path, bands: usize) -> Vec<(usize, usize, usize)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    let channels = info.color_type.samples();
    let row_bytes = info.line_size;
    let mut counts = vec![(0, 0, 0); bands];
    for y in 0..info.height as usize {
        let band = y * bands / info.height as usize;
        let row = &buf[y * row_bytes..(y + 1) * row_bytes];
        for (x, px) in row.chunks(channels * (info.bit_depth as usize / 8)).enumerate() {
            let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
            if r.min(g).min(b) < 235 {
                counts[band].0 += 1;
            }
            if r.max(g).max(b) - r.min(g).min(b) > 60 {
                if x < WIDTH as usize / 2 {
                    counts[band].1 += 1;
                } else {
                    counts[band].2 += 1;
                }
            }
        }
    }
    counts
}

#[test]
fn chromium_renders_the_report_with_figures_down_the_page() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("INFERTOP_REQUIRE_CHROMIUM").is_none(),
            "chromium is not installed: scripts/ensure-chromium.sh could not install it (needs root and apt-get)"
        );
        eprintln!("SKIPPED: chromium is not installed (scripts/ensure-chromium.sh installs it)");
        return;
    };
    let (dir, _) = report(&fixture(PI));
    let png = dir.path().join("report.png");
    screenshot(&chromium, &dir.path().join("report.html"), &png);
    if let Some(keep) = std::env::var_os("INFERTOP_REPORT_PNG") {
        fs::copy(&png, keep).unwrap();
    }
    let counts = bands(&png, 10);
    let inked = counts.iter().filter(|(ink, _, _)| *ink > 2_000).count();
    let coloured = counts.iter().filter(|(_, left, right)| left + right > 200).count();
    let two_up = counts.iter().filter(|(_, left, right)| *left > 150 && *right > 150).count();
    // The page is longer than the window: every band holds text or figures; the top is the
    // run's table, the rest coloured marks (points, bars, lines); the scatter plots stand two
    // side by side, so some band has coloured marks in both halves.
    assert_eq!(inked, 10, "blank bands: {counts:?}");
    assert!(coloured >= 5, "few bands with figures: {counts:?}");
    assert!(two_up >= 1, "no band with figures side by side: {counts:?}");
}
