//! The one way infertop reads a file it did not write itself: sysfs and `/proc` attributes,
//! recorded episodes and their base trees, snapshot folders given to `report` and `compare`.
//!
//! Such a path may name anything. Opening a FIFO waits for a writer that may never come,
//! opening a device can act (a watchdog starts counting, a tape rewinds), and `/dev/zero` never
//! ends. So only regular files are opened, and every read stops at a bound the caller gives: a
//! file larger than its bound is refused, never read until memory runs out.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not read. One line, without the path: the caller names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path exists and is something else than a regular file.
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    /// The file holds more than the caller's bound.
    #[error("is larger than {0} bytes")]
    TooLarge(u64),
    /// Missing, refused, or failing while read.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl ReadError {
    /// The `io::ErrorKind` of a failed open or read; `InvalidData` for the refusals.
    #[must_use]
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Self::Io(err) => err.kind(),
            Self::NotRegular(_) | Self::TooLarge(_) => io::ErrorKind::InvalidData,
        }
    }
}

/// What a file type is, in words: "a FIFO", "a folder", "a character device", ...
#[must_use]
pub fn describe(kind: fs::FileType) -> &'static str {
    if kind.is_file() {
        "a regular file"
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

/// The file at `path` (links followed) opened for reading, if it is a regular file.
///
/// # Errors
/// [`ReadError::NotRegular`] for anything else, [`ReadError::Io`] when it cannot be opened.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    // Checked before opening: the open itself is what blocks or acts.
    let kind = fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotRegular(describe(kind)));
    }
    // Checked again on the opened file, in case the path changed in between; the flags keep
    // such an open from waiting or from adopting a terminal. On regular files they change
    // nothing.
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        Err(ReadError::NotRegular(describe(kind)))
    }
}

/// All of the regular file at `path`, refused when longer than `limit` bytes.
///
/// # Errors
/// As [`open_regular`], and [`ReadError::TooLarge`].
pub fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    open_regular(path)?.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

/// [`read_at_most`] as UTF-8 text.
///
/// # Errors
/// As [`read_at_most`], and [`ReadError::Io`] (`InvalidData`) for text that is not UTF-8.
pub fn read_text_at_most(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_at_most(path, limit)?)
        .map_err(|_| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text")))
}

/// The regular file at `path` as a reader that fails once more than `limit` bytes were read,
/// or once a line runs longer than `max_line` bytes: for files read as a stream (CSV), where a
/// row without end would otherwise be buffered whole.
///
/// # Errors
/// As [`open_regular`]; the reader's errors are `InvalidData` saying which bound was passed.
pub fn open_bounded(path: &Path, limit: u64, max_line: u64) -> Result<Bounded<File>, ReadError> {
    Ok(Bounded { inner: open_regular(path)?, left: limit, limit, line: 0, max_line })
}

/// A reader with a bound on its length and on the length of its lines (see [`open_bounded`]).
#[derive(Debug)]
pub struct Bounded<R> {
    inner: R,
    /// Bytes that may still be read.
    left: u64,
    limit: u64,
    /// Bytes since the last newline.
    line: u64,
    max_line: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("is larger than {} bytes", self.limit)));
        }
        self.left -= n as u64;
        // The first piece continues the current line; every later one starts a new line.
        let mut pieces = buf[..n].split(|&b| b == b'\n');
        self.line += pieces.next().map_or(0, <[u8]>::len) as u64;
        let mut longest = self.line;
        for piece in pieces {
            self.line = piece.len() as u64;
            longest = longest.max(self.line);
        }
        if longest > self.max_line {
            let message = format!("has a line longer than {} bytes", self.max_line);
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        }
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests;
