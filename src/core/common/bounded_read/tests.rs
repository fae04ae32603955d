use std::fs;
use std::io::Read as _;
use std::path::Path;

use super::*;

/// Makes a FIFO at `path`: what a reader that opens it blindly would block on.
pub(crate) fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// Runs `f` on its own thread and fails if it has not returned within 20 s, so that a read
/// that blocks fails the test instead of hanging it.
pub(crate) fn returns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the read returns")
}

#[test]
fn only_regular_files_are_opened_and_the_refusal_says_what_was_found() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let zero = dir.path().join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let folder = dir.path().to_path_buf();
    let found = returns(move || [fifo, zero, folder].map(|p| read_at_most(&p, 1 << 20).unwrap_err().to_string()));
    assert_eq!(
        found,
        [
            "is a FIFO, not a regular file",
            "is a character device, not a regular file",
            "is a folder, not a regular file"
        ]
    );
    let missing = read_at_most(&dir.path().join("missing"), 10).unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
}

#[test]
fn a_file_longer_than_its_bound_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    fs::write(&path, "12345").unwrap();
    assert_eq!(read_at_most(&path, 5).unwrap(), b"12345");
    assert_eq!(read_at_most(&path, 4).unwrap_err().to_string(), "is larger than 4 bytes");
    assert_eq!(read_text_at_most(&path, 5).unwrap(), "12345");
    fs::write(&path, [0xff, 0xfe]).unwrap();
    assert_eq!(read_text_at_most(&path, 5).unwrap_err().to_string(), "is not UTF-8 text");
}

#[test]
fn a_bounded_stream_fails_past_its_length_or_on_a_long_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.csv");
    fs::write(&path, "a,b\n1,2\n").unwrap();
    let mut text = String::new();
    open_bounded(&path, 8, 3).unwrap().read_to_string(&mut text).unwrap();
    assert_eq!(text, "a,b\n1,2\n", "exactly at both bounds");
    let err = open_bounded(&path, 7, 3).unwrap().read_to_string(&mut String::new()).unwrap_err();
    assert_eq!(err.to_string(), "is larger than 7 bytes");
    let err = open_bounded(&path, 8, 2).unwrap().read_to_string(&mut String::new()).unwrap_err();
    assert_eq!(err.to_string(), "has a line longer than 2 bytes");
    // A line is counted across reads, however the reads split it.
    fs::write(&path, "x".repeat(10_000)).unwrap();
    let mut reader = open_bounded(&path, 1 << 20, 9_999).unwrap();
    let mut small = [0u8; 7];
    let err = std::iter::repeat_with(|| reader.read(&mut small)).find_map(Result::err).unwrap();
    assert_eq!(err.to_string(), "has a line longer than 9999 bytes");
}
