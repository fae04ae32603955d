//! An episode's base tree, read whole when the episode is loaded, so that every check is made
//! before a run starts and the replay copies exactly what was checked.
//!
//! The tree is whoever recorded it's, and a root-run infertop reads it: only folders and
//! regular files are taken, a symbolic link only when it leads to a place inside the tree (a
//! recorded board reaches its zones through links), and the tree is bounded in depth, entries
//! and bytes. Anything else (a FIFO, a device, a socket, a link out of the tree or in a loop, a
//! file too large to be a recorded attribute) is refused, naming its path in the tree.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read as _};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::core::common::bounded_read::{self, ReadError};

/// The most one file of a base tree may hold. Sysfs attributes are at most a page, and the
/// `/proc` files the contention reader takes only their first 64 KiB from.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// The most all files of a base tree may hold together; recorded boards hold about 100 KB.
pub const MAX_TREE_BYTES: u64 = 64 << 20;
/// The most files and folders a base tree may hold; recorded boards hold about 150.
pub const MAX_ENTRIES: usize = 100_000;
/// The deepest a folder may be nested; sysfs paths are about a dozen folders deep.
pub const MAX_DEPTH: usize = 64;

/// One file or folder of the tree, by its path relative to the tree's root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Folder(PathBuf),
    /// A regular file: its contents and permission bits.
    File {
        path: PathBuf,
        contents: Vec<u8>,
        mode: u32,
    },
}

/// A base tree read into memory, each folder listed before what it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaseTree {
    pub entries: Vec<Entry>,
}

/// Why a base tree is refused. One line naming the path inside the tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("'{}' {source}", path.display())]
    Read { path: PathBuf, source: ReadError },
    #[error("'{}' is {kind}, not a regular file or folder", path.display())]
    NotFileOrFolder { path: PathBuf, kind: &'static str },
    #[error("'{}' links out of the base tree (to '{}')", path.display(), target.display())]
    LinksOut { path: PathBuf, target: PathBuf },
    #[error("'{}' is a link to nothing", path.display())]
    Dangling { path: PathBuf },
    #[error("'{}' is a loop of links", path.display())]
    LinkLoop { path: PathBuf },
    #[error("'{}' leads back to a folder that holds it", path.display())]
    FolderLoop { path: PathBuf },
    #[error("'{}' is nested deeper than {MAX_DEPTH} folders", path.display())]
    TooDeep { path: PathBuf },
    #[error("holds more than {MAX_ENTRIES} files and folders")]
    TooManyEntries,
    #[error("holds more than {MAX_TREE_BYTES} bytes")]
    TooManyBytes,
}

impl BaseTree {
    /// Reads the tree under `base`.
    ///
    /// # Errors
    /// A [`TreeError`] for the first entry that is refused or cannot be read.
    pub fn read(base: &Path) -> Result<Self, TreeError> {
        let here = PathBuf::from(".");
        let root = fs::canonicalize(base).map_err(|e| read_error(&here, e))?;
        let mut walk = Walk { root: root.clone(), tree: Self::default(), entries: 0, bytes: 0, above: Vec::new() };
        walk.folder(&root, &here)?;
        Ok(walk.tree)
    }
}

fn read_error(path: &Path, source: impl Into<ReadError>) -> TreeError {
    TreeError::Read { path: path.to_path_buf(), source: source.into() }
}

/// A walk through the tree with what it has taken so far.
struct Walk {
    /// The tree's root, links resolved: every link must lead below it.
    root: PathBuf,
    tree: BaseTree,
    entries: usize,
    bytes: u64,
    /// Device and inode of each folder from the root down to the one being read.
    above: Vec<(u64, u64)>,
}

impl Walk {
    /// Takes the folder at `dir` (`rel` in the tree) and, sorted by name, all it holds.
    fn folder(&mut self, dir: &Path, rel: &Path) -> Result<(), TreeError> {
        let meta = fs::metadata(dir).map_err(|e| read_error(rel, e))?;
        let id = (meta.dev(), meta.ino());
        if self.above.contains(&id) {
            return Err(TreeError::FolderLoop { path: rel.to_path_buf() });
        }
        if self.above.len() >= MAX_DEPTH {
            return Err(TreeError::TooDeep { path: rel.to_path_buf() });
        }
        // One more name than the bound allows is enough to know the bound is passed.
        let budget = MAX_ENTRIES - self.entries + 1;
        let mut names: Vec<OsString> = fs::read_dir(dir)
            .map_err(|e| read_error(rel, e))?
            .take(budget)
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<io::Result<_>>()
            .map_err(|e| read_error(rel, e))?;
        names.sort_unstable();
        self.above.push(id);
        for name in names {
            self.entry(&dir.join(&name), &tidy(&rel.join(&name)))?;
        }
        self.above.pop();
        Ok(())
    }

    /// Takes one entry: a folder with what it holds, or a file's contents.
    fn entry(&mut self, path: &Path, rel: &Path) -> Result<(), TreeError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(TreeError::TooManyEntries);
        }
        let kind = fs::symlink_metadata(path).map_err(|e| read_error(rel, e))?.file_type();
        let path = if kind.is_symlink() { self.inside(path, rel)? } else { path.to_path_buf() };
        let kind = fs::metadata(&path).map_err(|e| read_error(rel, e))?.file_type();
        if kind.is_dir() {
            self.tree.entries.push(Entry::Folder(rel.to_path_buf()));
            self.folder(&path, rel)
        } else if kind.is_file() {
            self.file(&path, rel)
        } else {
            Err(TreeError::NotFileOrFolder { path: rel.to_path_buf(), kind: bounded_read::describe(kind) })
        }
    }

    /// Where the link at `path` leads, if that is inside the tree.
    fn inside(&self, path: &Path, rel: &Path) -> Result<PathBuf, TreeError> {
        let rel = rel.to_path_buf();
        match fs::canonicalize(path) {
            Ok(target) if target.starts_with(&self.root) => Ok(target),
            Ok(target) => Err(TreeError::LinksOut { path: rel, target }),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(TreeError::LinkLoop { path: rel }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TreeError::Dangling { path: rel }),
            Err(e) => Err(read_error(&rel, e)),
        }
    }

    /// Takes a regular file's contents, within the bounds of one file and of the tree.
    fn file(&mut self, path: &Path, rel: &Path) -> Result<(), TreeError> {
        let file = bounded_read::open_regular(path).map_err(|e| read_error(rel, e))?;
        let mode = file.metadata().map_err(|e| read_error(rel, e))?.permissions().mode() & 0o777;
        let mut contents = Vec::new();
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut contents).map_err(|e| read_error(rel, e))?;
        if contents.len() as u64 > MAX_FILE_BYTES {
            return Err(read_error(rel, ReadError::TooLarge(MAX_FILE_BYTES)));
        }
        self.bytes += contents.len() as u64;
        if self.bytes > MAX_TREE_BYTES {
            return Err(TreeError::TooManyBytes);
        }
        self.tree.entries.push(Entry::File { path: rel.to_path_buf(), contents, mode });
        Ok(())
    }
}

/// `rel` without its leading `./`: the root is `.`, what it holds is named from below it.
fn tidy(rel: &Path) -> PathBuf {
    rel.strip_prefix(".").unwrap_or(rel).to_path_buf()
}
