//! The incremental cache: what earlier harvests read, kept in one SQLite file in the user's cache
//! directory so that a re-run asks GitLab only for what changed (the harvest side is
//! `harvest::incremental`).
//!
//! An entry is one stream of raw records — what one query returned, such as a subject's authored
//! merge requests or one on-call window of a project — keyed by the instance, a fingerprint of
//! the token, its owner (a subject's user id, or `shared` for reads every subject of a run
//! shares), the period and the stream's name (which says what was asked). Beside the records it
//! keeps when they were last read (the start of that read, so nothing updated during it is
//! missed) and when they were last read whole.
//!
//! The token is never stored: entries carry a salted SHA-256 fingerprint of it, so a run with
//! another token (another person, other permissions) never sees what this one could.
//!
//! The file is safe to delete at any time (the next run reads everything again); concurrent runs
//! share it through SQLite's locking (write-ahead log, busy timeout); each write is one
//! transaction, so a crash leaves the last complete state. A file that SQLite cannot read is
//! set aside with a warning and started afresh; a file from another version of the schema is
//! emptied. Bump [`SCHEMA_VERSION`] whenever a cached record type changes shape.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::config::Secret;

/// The shape of the tables and of the records in them.
pub const SCHEMA_VERSION: u32 = 1;

const FILE_NAME: &str = "harvest.sqlite3";

/// How long a run waits for another run's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// What a harvest does with the cache: `--refresh` reads everything and rewrites it,
/// `--no-cache` neither reads nor writes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CacheMode {
    #[default]
    Use,
    Refresh,
    Off,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot create the cache directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("cache {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
}

/// One stream as the cache holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When the read that brought these records started.
    pub read_at: DateTime<Utc>,
    /// When the stream was last read whole, not just what changed.
    pub full_at: DateTime<Utc>,
    /// The records, as JSON.
    pub records: String,
}

/// Whose entries: everything but the stream's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The instance's URL, as snapshots name it.
    pub instance: String,
    /// The token's fingerprint ([`Cache::fingerprint`]).
    pub viewer: String,
    /// `user:<id>` for a subject's streams, `shared` for reads shared by a run's subjects.
    pub owner: String,
    /// `YYYY-MM-DD..YYYY-MM-DD`.
    pub period: String,
}

/// An open cache file.
#[derive(Debug)]
pub struct Cache {
    // SQLite calls take a few milliseconds and happen twice per subject; the harvest spends its
    // time waiting on the network, so they run in place rather than on a blocking thread.
    connection: Mutex<Connection>,
    path: PathBuf,
    salt: String,
}

impl Cache {
    /// `$XDG_CACHE_HOME/gl-evidence`, `~/.cache/gl-evidence` or the platform's equivalent.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("gl-evidence"))
    }

    /// Opens (or creates) the cache in `dir`, forgetting entries last read whole more than
    /// `max_age` ago. A file SQLite cannot read is replaced, with a warning.
    pub fn open(dir: &Path, max_age: chrono::Duration) -> Result<Cache, CacheError> {
        create_private_dir(dir)?;
        let path = dir.join(FILE_NAME);
        // Two runs starting at once open the file in turns: making it, switching it to WAL and
        // replacing an unreadable one each need it to themselves (SQLite would answer "locked"
        // rather than wait), and neither may remove what the other has just made.
        let lock = open_lock(&path).map_err(|source| CacheError::Directory {
            path: path.display().to_string(),
            source,
        })?;
        let _turn = Turn::take(&lock).map_err(|source| CacheError::Directory {
            path: path.display().to_string(),
            source,
        })?;
        let cache = match Cache::open_file(&path) {
            Ok(cache) => cache,
            Err(CacheError::Sqlite { source, .. }) if is_unreadable(&source) => {
                tracing::warn!(
                    "the cache {} is unreadable ({source}); starting it afresh (this run reads everything from GitLab)",
                    path.display()
                );
                remove_files(&path);
                Cache::open_file(&path)?
            }
            Err(other) => return Err(other),
        };
        cache.forget_older_than(Utc::now() - max_age)?;
        Ok(cache)
    }

    fn open_file(path: &Path) -> Result<Cache, CacheError> {
        let failed = |source| CacheError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        create_if_missing(path).map_err(|source| CacheError::Directory {
            path: path.display().to_string(),
            source,
        })?;
        let mut connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(failed)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        // WAL: readers never block the writer; NORMAL sync is still crash-safe in WAL mode.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(failed)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        let check: String = connection
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(failed)?;
        if check != "ok" {
            return Err(failed(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            )));
        }
        let salt = prepare_schema(&mut connection).map_err(failed)?;
        Ok(Cache {
            connection: Mutex::new(connection),
            path: path.to_path_buf(),
            salt,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A salted fingerprint of the token: the same token gives the same value in this file,
    /// and the value says nothing about the token.
    pub fn fingerprint(&self, token: &Secret) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.salt.as_bytes());
        hasher.update([0u8]);
        hasher.update(token.expose().as_bytes());
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Every stream of `scope`, by name.
    pub fn load(&self, scope: &Scope) -> Result<HashMap<String, Entry>, CacheError> {
        let connection = self.lock();
        let read = || -> rusqlite::Result<HashMap<String, Entry>> {
            let mut statement = connection.prepare_cached(
                "SELECT stream, read_at, full_at, records FROM entries
                 WHERE instance = ?1 AND viewer = ?2 AND owner = ?3 AND period = ?4",
            )?;
            let rows = statement.query_map(
                params![scope.instance, scope.viewer, scope.owner, scope.period],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                },
            )?;
            let mut entries = HashMap::new();
            for row in rows {
                let (stream, read_at, full_at, records) = row?;
                // A time that does not parse makes the entry useless, not the cache.
                if let (Ok(read_at), Ok(full_at)) = (read_at.parse(), full_at.parse()) {
                    entries.insert(
                        stream,
                        Entry {
                            read_at,
                            full_at,
                            records,
                        },
                    );
                }
            }
            Ok(entries)
        };
        read().map_err(|source| self.error(source))
    }

    /// Writes `entries` for `scope` in one transaction, replacing streams of the same name.
    pub fn store(&self, scope: &Scope, entries: &[(String, Entry)]) -> Result<(), CacheError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut connection = self.lock();
        let mut write = || -> rusqlite::Result<()> {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut statement = transaction.prepare_cached(
                    "INSERT OR REPLACE INTO entries
                     (instance, viewer, owner, period, stream, read_at, full_at, records)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (stream, entry) in entries {
                    statement.execute(params![
                        scope.instance,
                        scope.viewer,
                        scope.owner,
                        scope.period,
                        stream,
                        entry.read_at.to_rfc3339(),
                        entry.full_at.to_rfc3339(),
                        entry.records,
                    ])?;
                }
            }
            transaction.commit()
        };
        write().map_err(|source| self.error(source))
    }

    /// Drops entries last read whole before `horizon`: they would be read whole again anyway.
    fn forget_older_than(&self, horizon: DateTime<Utc>) -> Result<(), CacheError> {
        let connection = self.lock();
        connection
            .execute(
                "DELETE FROM entries WHERE full_at < ?1",
                params![horizon.to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|source| self.error(source))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A poisoned lock only means another task panicked mid-call; SQLite's own transaction
        // kept the file sound.
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error(&self, source: rusqlite::Error) -> CacheError {
        CacheError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }
}

/// Creates the tables if they are missing and empties them if another schema version wrote
/// them; returns the file's salt.
fn prepare_schema(connection: &mut Connection) -> rusqlite::Result<String> {
    let transaction =
        connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    transaction.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS entries (
             instance TEXT NOT NULL,
             viewer TEXT NOT NULL,
             owner TEXT NOT NULL,
             period TEXT NOT NULL,
             stream TEXT NOT NULL,
             read_at TEXT NOT NULL,
             full_at TEXT NOT NULL,
             records TEXT NOT NULL,
             PRIMARY KEY (instance, viewer, owner, period, stream)
         ) WITHOUT ROWID;",
    )?;
    let meta = |key: &str| -> rusqlite::Result<Option<String>> {
        transaction
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
    };
    let version = SCHEMA_VERSION.to_string();
    match meta("schema_version")? {
        Some(found) if found == version => {}
        found => {
            if let Some(found) = found {
                tracing::warn!(
                    "the cache was written by another version of gl-evidence (schema {found}, this one uses {version}); emptying it"
                );
            }
            transaction.execute("DELETE FROM entries", [])?;
            transaction.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
                [&version],
            )?;
        }
    }
    let salt = match meta("salt")? {
        Some(salt) => salt,
        None => {
            let salt: String = (0..32)
                .map(|_| format!("{:02x}", fastrand::u8(..)))
                .collect();
            transaction.execute("INSERT INTO meta (key, value) VALUES ('salt', ?1)", [&salt])?;
            salt
        }
    };
    transaction.commit()?;
    Ok(salt)
}

/// Errors that mean the file is not a database SQLite can use, as opposed to a busy or full disk.
fn is_unreadable(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// The database and the files SQLite keeps beside it.
/// Makes an empty database file when there is none. A write-ahead log left beside a deleted
/// database would be replayed into the new one, so it goes first.
fn create_if_missing(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        remove_files(path);
        create_private_file(path)?;
    }
    Ok(())
}

/// The file whose lock runs take turns on to open the cache (beside it, empty).
fn open_lock(path: &Path) -> std::io::Result<std::fs::File> {
    let mut name = path.as_os_str().to_os_string();
    name.push(".lock");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(PathBuf::from(name))
}

/// An exclusive advisory lock on a file, held until dropped.
struct Turn<'a>(&'a std::fs::File);

impl<'a> Turn<'a> {
    fn take(file: &'a std::fs::File) -> std::io::Result<Turn<'a>> {
        #[cfg(unix)]
        rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(Turn(file))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = rustix::fs::flock(self.0, rustix::fs::FlockOperation::Unlock);
    }
}

fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// The cache holds titles and descriptions from private projects: only its owner may read it.
fn create_private_dir(dir: &Path) -> Result<(), CacheError> {
    let failed = |source| CacheError::Directory {
        path: dir.display().to_string(),
        source,
    };
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(failed)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(failed)
    }
}

fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_creating_the_cache_at_once_all_open_it() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let opened: Vec<Result<Cache, CacheError>> = std::thread::scope(|threads| {
                let opening: Vec<_> = (0..4)
                    .map(|_| threads.spawn(|| Cache::open(dir.path(), chrono::Duration::days(30))))
                    .collect();
                opening.into_iter().map(|t| t.join().unwrap()).collect()
            });
            for cache in opened {
                let cache = cache.expect("opened, not locked out");
                cache.store(&scope("user:1"), &[]).expect("and usable");
            }
        }
    }

    fn scope(owner: &str) -> Scope {
        Scope {
            instance: "https://gitlab.example.com".into(),
            viewer: "v".into(),
            owner: owner.into(),
            period: "2026-07-01..2026-09-30".into(),
        }
    }

    fn entry(records: &str, read_at: &str) -> Entry {
        Entry {
            read_at: read_at.parse().unwrap(),
            full_at: read_at.parse().unwrap(),
            records: records.into(),
        }
    }

    fn month() -> chrono::Duration {
        chrono::Duration::days(30)
    }

    #[test]
    fn entries_round_trip_per_scope_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now().to_rfc3339();
        {
            let cache = Cache::open(dir.path(), month()).unwrap();
            cache
                .store(
                    &scope("user:1"),
                    &[
                        ("a".into(), entry("[1]", &now)),
                        ("b".into(), entry("[2]", &now)),
                    ],
                )
                .unwrap();
            cache
                .store(&scope("user:1"), &[("a".into(), entry("[3]", &now))])
                .unwrap();
        }
        let cache = Cache::open(dir.path(), month()).unwrap();
        let loaded = cache.load(&scope("user:1")).unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(
            loaded["a"].records, "[3]",
            "a later write replaces the stream"
        );
        assert_eq!(loaded["b"].records, "[2]");
        assert!(cache.load(&scope("user:2")).unwrap().is_empty());
        let other_instance = Scope {
            instance: "https://gitlab.com".into(),
            ..scope("user:1")
        };
        assert!(cache.load(&other_instance).unwrap().is_empty());
    }

    #[test]
    fn old_entries_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), month()).unwrap();
        let old = (Utc::now() - chrono::Duration::days(31)).to_rfc3339();
        let recent = (Utc::now() - chrono::Duration::days(29)).to_rfc3339();
        cache
            .store(
                &scope("shared"),
                &[
                    ("old".into(), entry("[]", &old)),
                    ("recent".into(), entry("[]", &recent)),
                ],
            )
            .unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), month()).unwrap();
        let loaded = cache.load(&scope("shared")).unwrap();
        assert_eq!(loaded.keys().collect::<Vec<_>>(), vec!["recent"]);
    }

    #[test]
    fn a_corrupt_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "not a database at all, just text\n".repeat(200),
        )
        .unwrap();
        let cache = Cache::open(dir.path(), month()).unwrap();
        assert!(cache.load(&scope("user:1")).unwrap().is_empty());
    }

    #[test]
    fn another_schema_version_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now().to_rfc3339();
        let cache = Cache::open(dir.path(), month()).unwrap();
        cache
            .store(&scope("user:1"), &[("a".into(), entry("[1]", &now))])
            .unwrap();
        cache
            .lock()
            .execute(
                "UPDATE meta SET value = '0' WHERE key = 'schema_version'",
                [],
            )
            .unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), month()).unwrap();
        assert!(cache.load(&scope("user:1")).unwrap().is_empty());
    }

    #[test]
    fn fingerprints_hide_the_token_and_tell_tokens_apart() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), month()).unwrap();
        let token = Secret::new("glpat-abcdefghijklmnopqrst".into());
        let print = cache.fingerprint(&token);
        assert_eq!(print, cache.fingerprint(&token), "stable");
        assert_ne!(print, cache.fingerprint(&Secret::new("glpat-other".into())));
        assert!(!print.contains("abcdefghij"));
        assert_eq!(print.len(), 64);
        let elsewhere = tempfile::tempdir().unwrap();
        let other = Cache::open(elsewhere.path(), month()).unwrap();
        assert_ne!(print, other.fingerprint(&token), "salted per file");
    }

    #[cfg(unix)]
    #[test]
    fn only_the_owner_may_read_the_cache() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("gl-evidence");
        let cache = Cache::open(&cache_dir, month()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache_dir), 0o700);
        assert_eq!(mode(cache.path()), 0o600);
    }
}
