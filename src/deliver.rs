//! Delivering outputs: files are written to a temporary file beside the target and renamed, so
//! an interrupted run never leaves a truncated file nor destroys the previous one; [`publish`]
//! posts a report to GitLab as an issue.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

pub mod publish;

/// Writes `contents` to `path` atomically, creating parent folders.
pub fn write_file(path: &Path, contents: &str) -> Result<()> {
    let failed = |source: std::io::Error| Error::Write {
        path: path.display().to_string(),
        source,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(failed)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let temp = parent.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        // A replaced file keeps its permissions: a private file stays private.
        if let Ok(previous) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp, previous.permissions())?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(failed)
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
        let err = write_file(&target, "x").unwrap_err();
        assert!(err.to_string().contains("is-a-dir"), "{err}");
        assert!(target.is_dir());
    }
}
