//! A config file that says how to get the GitLab token (`token_command`), or holds something
//! that looks like a token, must be private: on Unix a warning names a file that other users can
//! read, and the `chmod` that fixes it. The token itself never belongs in the file (there is no
//! key for it); it comes from `GITLAB_TOKEN`, `GL_EVIDENCE_TOKEN` or `token_command`, never from
//! a command-line argument, which every user of the machine can see in the process list.

use std::path::Path;

/// Prefixes of GitLab's token formats (personal, OAuth, deploy, runner, CI job, feed, trigger,
/// …): text that holds one holds a secret.
const TOKEN_PREFIXES: [&str; 11] = [
    "glpat-", "gloas-", "gldt-", "glrt-", "glrtr-", "glcbt-", "glptt-", "glft-", "glimt-",
    "glagent-", "glsoat-",
];

/// Whether `text` holds what looks like a GitLab token.
pub fn holds_token(text: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|p| text.contains(p))
}

/// Why the file at `path` needs to be private, if it does: it names a `token_command` or holds
/// a token.
pub fn secret_in(text: &str, has_token_command: bool) -> Option<&'static str> {
    if holds_token(text) {
        Some("holds what looks like a GitLab token")
    } else if has_token_command {
        Some("holds `token_command`, which says how to get your GitLab token")
    } else {
        None
    }
}

/// The warning for a config file at `path` that is readable by others and needs not to be.
pub fn warning(path: &Path, text: &str, has_token_command: bool) -> Option<String> {
    let why = secret_in(text, has_token_command)?;
    let mode = others_can_read(path)?;
    Some(format!(
        "config file {} {why} and can be read by other users (mode {mode:o}): run `chmod 600 {}`",
        path.display(),
        path.display()
    ))
}

/// The file's permission bits when its group or others may read or write it.
#[cfg(unix)]
fn others_can_read(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o066 != 0).then_some(mode)
}

/// Other systems keep their own access lists: nothing to check here.
#[cfg(not(unix))]
fn others_can_read(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_looking_text_is_recognised() {
        assert!(holds_token("token_command = \"echo glpat-abc\""));
        assert!(holds_token("# glrt-123"));
        assert!(!holds_token("gitlab_url = \"https://gitlab.com\""));
        assert_eq!(secret_in("x = 1", false), None);
        assert!(secret_in("x = 1", true).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_file_with_a_secret_is_named_with_its_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "token_command = \"pass show gitlab\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = warning(&path, "", true).expect("a warning");
        assert!(
            text.contains("mode 644") && text.contains("chmod 600"),
            "{text}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(warning(&path, "", true), None);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(warning(&path, "", true).is_some(), "the group may read it");
        assert_eq!(warning(&path, "x = 1", false), None, "nothing secret");
    }
}
