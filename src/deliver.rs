//! Delivering outputs: files are written to a temporary file beside the target and renamed, so
//! an interrupted run never leaves a truncated file nor destroys the previous one; [`publish`]
//! posts a report to GitLab as an issue.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

pub mod publish;

/// A file that could not be written: what went wrong, and that the file it was to replace is
/// as it was (nothing is ever written to the target itself until the new content is complete).
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {problem}; {kept}\n  hint: {hint}")]
pub struct WriteError {
    pub path: String,
    problem: String,
    kept: String,
    hint: String,
    pub source: std::io::Error,
}

impl WriteError {
    fn new(path: &Path, existed: bool, source: std::io::Error) -> WriteError {
        let folder = parent_of(path).display().to_string();
        let (problem, hint) = match source.kind() {
            ErrorKind::PermissionDenied => (
                format!("permission denied (no right to create files in {folder})"),
                format!("write somewhere else (--out), or make {folder} writable"),
            ),
            ErrorKind::ReadOnlyFilesystem => (
                format!("{folder} is on a read-only file system"),
                "write somewhere else (--out)".to_string(),
            ),
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => (
                if source.kind() == ErrorKind::QuotaExceeded {
                    format!("the disk quota is used up ({source})")
                } else {
                    format!("the disk is full ({source})")
                },
                format!(
                    "free some space on the disk that holds {folder}, or write elsewhere (--out)"
                ),
            ),
            ErrorKind::FileTooLarge => (
                format!("the file is larger than this process may write ({source})"),
                "raise the file size limit (ulimit -f), or write elsewhere (--out)".to_string(),
            ),
            ErrorKind::IsADirectory => (
                "it is a folder".to_string(),
                "name a file, such as report.md, not a folder".to_string(),
            ),
            ErrorKind::NotADirectory => (
                "part of the path is a file, not a folder".to_string(),
                "check the path".to_string(),
            ),
            _ => (
                source.to_string(),
                "check the path and the disk".to_string(),
            ),
        };
        let kept = if existed {
            "the previous file is unchanged".to_string()
        } else {
            "nothing was written".to_string()
        };
        WriteError {
            path: path.display().to_string(),
            problem,
            kept,
            hint,
            source,
        }
    }
}

/// Writes `contents` to `path` atomically, creating parent folders.
pub fn write_file(path: &Path, contents: &str) -> Result<()> {
    write_atomically(path, contents.as_bytes()).map_err(Error::from)
}

/// Writes `contents` to a new temporary file beside `path` and renames it over `path`: readers
/// see the old file or the new one, never a part. An interrupted run (Ctrl-C, kill, a full
/// disk) leaves the previous file as it was (and, if killed mid-write, a hidden
/// `.NAME.PID.N.tmp` beside it). A replaced file keeps its permissions, and a symbolic link is
/// followed, so the file it points to is the one replaced.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::result::Result<(), WriteError> {
    write_with(path, contents, |file, bytes| file.write_all(bytes))
}

/// [`write_atomically`] with the writing of the bytes given, so tests can make it fail.
fn write_with(
    path: &Path,
    contents: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
) -> std::result::Result<(), WriteError> {
    let target = resolve_link(path);
    let previous = std::fs::metadata(&target).ok();
    let existed = previous.as_ref().is_some_and(|m| m.is_file());
    let failed = |source| WriteError::new(path, existed, source);
    if previous.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(failed(std::io::Error::from(ErrorKind::IsADirectory)));
    }
    let folder = parent_of(&target);
    std::fs::create_dir_all(folder).map_err(failed)?;
    let (temp, mut file) = create_temp(&target).map_err(failed)?;
    let result = (|| {
        // Before any content: a private file's new content is never readable by others.
        if let Some(previous) = &previous {
            file.set_permissions(previous.permissions())?;
        }
        write(&mut file, contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)?;
        // The rename itself survives a power cut once the folder is synced too.
        #[cfg(unix)]
        if let Ok(dir) = File::open(folder) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(failed)
}

/// The folder a file is in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The file a symbolic link points to (as the link's text says, relative to its folder), else
/// the path itself.
fn resolve_link(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    // A bounded walk: a loop of links ends up written over, not followed forever.
    for _ in 0..16 {
        match std::fs::read_link(&current) {
            Ok(target) => current = parent_of(&current).join(target),
            Err(_) => break,
        }
    }
    current
}

/// Numbers the temporary files of this process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new, empty file beside `target`, never one that exists (nor a link someone placed there).
fn create_temp(target: &Path) -> std::io::Result<(PathBuf, File)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let mut tries = 0;
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = parent_of(target).join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match File::options().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            // Left by a killed run that had the same process id: take the next number.
            Err(e) if e.kind() == ErrorKind::AlreadyExists && tries < 1000 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Writes to `path`, or to standard output when there is none.
pub fn write_output(path: Option<&Path>, contents: &str) -> Result<()> {
    match path {
        Some(path) if path != Path::new("-") => write_file(path, contents),
        _ => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(contents.as_bytes())
                .and_then(|_| stdout.flush())
                .map_err(|source| Error::Write {
                    path: "standard output".into(),
                    source,
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/report.md");
        write_file(&path, "one").unwrap();
        write_file(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.md")]);
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.toml");
        write_file(&path, "one").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_file(&path, "two").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
    }

    #[test]
    fn a_failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("is-a-dir");
        std::fs::create_dir(&target).unwrap();
        let err = write_file(&target, "x").unwrap_err().to_string();
        assert!(
            err.contains("is-a-dir") && err.contains("it is a folder"),
            "{err}"
        );
        assert!(target.is_dir());
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A disk that fills up halfway through: the previous file stays whole, the partial
    /// temporary file goes, and the message says what happened.
    #[test]
    fn a_full_disk_keeps_the_previous_file_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.md");
        write_file(&path, "the previous report\n").unwrap();
        let err = write_with(&path, b"a new report, much longer", |file, bytes| {
            file.write_all(&bytes[..8])?;
            Err(std::io::Error::from(ErrorKind::StorageFull))
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("report.md"), "{message}");
        assert!(message.contains("the disk is full"), "{message}");
        assert!(
            message.contains("the previous file is unchanged"),
            "{message}"
        );
        assert!(message.contains("hint: free some space"), "{message}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "the previous report\n"
        );
        assert_eq!(names(dir.path()), ["report.md"]);

        // Nothing there before: the message says nothing was written, and nothing is there.
        let fresh = dir.path().join("fresh.md");
        let err = write_with(&fresh, b"x", |_, _| {
            Err(std::io::Error::from(ErrorKind::StorageFull))
        })
        .unwrap_err();
        assert!(err.to_string().contains("nothing was written"), "{err}");
        assert_eq!(names(dir.path()), ["report.md"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_followed_and_its_target_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        let real = dir.path().join("real/brag.md");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("brag.md");
        std::os::unix::fs::symlink("real/brag.md", &link).unwrap();
        write_file(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(names(&dir.path().join("real")), ["brag.md"]);
    }

    /// A file left where the temporary file would go (a killed run with the same process id,
    /// or a link planted there) is never written through.
    #[cfg(unix)]
    #[test]
    fn an_existing_temporary_name_is_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let next = TEMP_COUNTER.load(Ordering::Relaxed);
        // Other tests write files meanwhile: plant enough names to be in this write's way.
        for n in next..next + 64 {
            let planted = dir
                .path()
                .join(format!(".out.json.{}.{n}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        write_file(&path, "{}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}
