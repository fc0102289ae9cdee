//! Where `generate_file` may write, and cleaning up what it made on the way.
//!
//! The log is written to a temporary file and renamed over the target, so the
//! target must be a path that a rename may replace: a regular file or nothing.
//! A symlink is resolved first (the rename then replaces the file it points
//! to, not the link), and a FIFO, device, socket or directory is refused:
//! renaming over `/dev/stdout` or a named pipe would destroy it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::Error;

/// The most symlinks followed before giving up, as Linux does (`ELOOP`).
const MAX_LINKS: usize = 40;

/// The path the rename must replace: `path` with symlinks in its last
/// component followed, whether or not the final file exists yet.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf, Error> {
    let io_error = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    // What the path finally names, following every link (including the
    // kernel's magic ones under /proc, which `read_link` cannot resolve).
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(Error::NotAFile {
                path: path.to_owned(),
                kind: describe(meta.file_type()),
            });
        }
        Ok(_) => {}
        // Nothing there yet (or a parent is not a directory, which creating
        // the temporary file reports in its own words).
        Err(e) if missing(&e) => {}
        Err(e) => return Err(io_error(e)),
    }
    let mut target = path.to_owned();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&target).map_err(io_error)?;
                target = match target.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            Ok(meta) if meta.is_file() => return Ok(target),
            Ok(meta) => {
                return Err(Error::NotAFile {
                    path: path.to_owned(),
                    kind: describe(meta.file_type()),
                });
            }
            Err(e) if missing(&e) => return Ok(target),
            Err(e) => return Err(io_error(e)),
        }
    }
    Err(io_error(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("more than {MAX_LINKS} levels of symbolic links"),
    )))
}

fn missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// A file type in words, for the refusal message.
fn describe(kind: fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The directories one call created, removed again on drop unless kept.
pub(crate) struct CreatedDirs {
    /// Outermost first.
    dirs: Vec<PathBuf>,
}

impl CreatedDirs {
    /// Create `dir` and any missing parents, remembering which were missing.
    /// On failure, the directory that could not be created and why.
    pub(crate) fn create(dir: &Path) -> Result<CreatedDirs, (PathBuf, io::Error)> {
        let mut missing = Vec::new();
        let mut at = Some(dir);
        while let Some(path) = at.filter(|p| !p.as_os_str().is_empty()) {
            if fs::symlink_metadata(path).is_ok() {
                break;
            }
            missing.push(path.to_owned());
            at = path.parent();
        }
        missing.reverse();
        let mut created = CreatedDirs { dirs: Vec::new() };
        for path in missing {
            match fs::create_dir(&path) {
                Ok(()) => created.dirs.push(path),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                // `created` drops here and removes what this call made.
                Err(e) => return Err((path, e)),
            }
        }
        Ok(created)
    }

    /// The write succeeded: leave the directories in place.
    pub(crate) fn keep(mut self) {
        self.dirs.clear();
    }
}

impl Drop for CreatedDirs {
    fn drop(&mut self) {
        // Innermost first; `remove_dir` only removes empty directories, so
        // anything another process put there in the meantime stays.
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}
