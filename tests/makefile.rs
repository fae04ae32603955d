//! The Makefile itself: targets that need no libtorch must not provision it (it is a 500 MB
//! download when the cache is empty).

use std::path::Path;
use std::process::Command;

/// `make clean-cache` with an empty cache and no Python on `PATH`: any attempt to provision
/// libtorch would print a `fetch-libtorch:` line (it says pip is missing), and nothing else in
/// the Makefile prints that.
#[test]
fn clean_cache_provisions_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Only what the recipe needs; no python, no pip, no cargo.
    for tool in ["make", "bash", "rm", "sh"] {
        let path = which(tool);
        std::os::unix::fs::symlink(&path, bin.join(tool)).unwrap();
    }
    let cache = tmp.path().join("cache");
    std::fs::create_dir_all(cache.join("libtorch-0-x")).unwrap();
    let out = Command::new(bin.join("make"))
        .args(["--no-print-directory", "-C", env!("CARGO_MANIFEST_DIR"), "clean-cache"])
        .env_clear()
        .env("PATH", &bin)
        .env("HOME", tmp.path())
        .env("INFERTOP_CACHE", &cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "make clean-cache failed: {stderr}");
    assert!(!stderr.contains("fetch-libtorch"), "clean-cache ran the libtorch fetch: {stderr}");
    assert!(!cache.exists(), "the cache folder is still there");
}

fn which(tool: &str) -> std::path::PathBuf {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!("{tool} not found");
}
