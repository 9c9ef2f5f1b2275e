//! Incremental harvesting: each source keeps the raw records it read in the cache
//! ([`crate::cache`]) and, on a re-run for the same people and period, asks GitLab only for
//! what changed since.
//!
//! - List queries (authored and review-requested merge requests, issues, a project's incidents,
//!   epics) ask for records updated since the last read, less [`MARGIN`], and merge them by id
//!   into the cached ones: a record updated since replaces its cached copy.
//! - Events ask from the last read's date (GitLab's `after` is an exclusive date, so one day
//!   earlier) and merge by event id; once the period ended before the last read, not at all.
//! - Merge requests and issues fetched by iid because events name them are reused, unless a
//!   new event names them or they were still open (a merge or a close is not the subject's
//!   event).
//! - On-call windows that ended before the last read are final; incident timelines are read
//!   again only for incidents updated since.
//!
//! The cache serves the exact period it was read for. A stream that failed or stopped early is
//! never written; what it holds is always a complete answer as of its read time. Every entry
//! is read whole again once it is `cache.max_age_days` old, which bounds what incremental reads
//! cannot see: deletions, a reassigned issue or a removed reviewer (the record leaves the
//! subject's lists without appearing in them), renamed projects.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::cache::{Cache, CacheMode, Entry, Scope};
use crate::model::Period;

/// How far before the last read a re-read starts: GitLab's clock and ours may differ, a note
/// touches its issue at most once a minute, and background jobs record events late.
pub(crate) const MARGIN: Duration = Duration::minutes(10);

/// The cache as one run uses it.
#[derive(Debug)]
pub struct RunCache {
    pub cache: Cache,
    /// [`CacheMode::Use`] or [`CacheMode::Refresh`]; without a cache there is no `RunCache`.
    pub mode: CacheMode,
    /// The instance, as snapshots name it.
    pub instance: String,
    /// The token's fingerprint.
    pub viewer: String,
    /// Writes on their way: each owner's streams go to the cache on a thread of their own,
    /// while the harvest and then the snapshot go on; [`RunCache::finish_writes`] waits for them.
    pub writes: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl RunCache {
    pub fn new(cache: Cache, mode: CacheMode, instance: String, viewer: String) -> RunCache {
        RunCache {
            cache,
            mode,
            instance,
            viewer,
            writes: Mutex::new(Vec::new()),
        }
    }

    /// Waits for every write this run started.
    pub fn finish_writes(&self) {
        let writes = std::mem::take(&mut *self.writes.lock().unwrap_or_else(|e| e.into_inner()));
        for write in writes {
            // A write that panicked wrote nothing: the next run reads that owner again.
            let _ = write.join();
        }
    }
}

/// One owner's streams (a subject's, or the run's shared reads): what the cache held when the
/// run began, and what this run will write back.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    run: Option<(Arc<RunCache>, Scope)>,
    recalled: HashMap<String, Entry>,
    kept: Mutex<Vec<(String, Entry)>>,
}

impl Memory {
    /// The streams of `owner` (`user:<id>` or `shared`) for `period`; nothing is recalled on a
    /// `--refresh` run, and a cache that cannot be read is a warning, not a failure.
    pub(crate) fn load(run: Option<&Arc<RunCache>>, owner: String, period: &Period) -> Memory {
        let Some(run) = run else {
            return Memory::default();
        };
        let scope = Scope {
            instance: run.instance.clone(),
            viewer: run.viewer.clone(),
            owner,
            period: format!("{}..{}", period.from, period.to),
        };
        let mut recalled = match run.mode {
            CacheMode::Use => run.cache.load(&scope).unwrap_or_else(|e| {
                tracing::warn!("{e}; reading everything from GitLab");
                HashMap::new()
            }),
            CacheMode::Refresh | CacheMode::Off => HashMap::new(),
        };
        // Read "later" than now: the clock was set back since, and "since then" means nothing.
        let now = Utc::now();
        recalled.retain(|_, entry| entry.read_at <= now);
        Memory {
            run: Some((Arc::clone(run), scope)),
            recalled,
            kept: Mutex::new(Vec::new()),
        }
    }

    /// Forgets what was recalled unless `keep`: entries of an owner not known yet are nobody's.
    pub(crate) fn recalling(mut self, keep: bool) -> Memory {
        if !keep {
            self.recalled.clear();
        }
        self
    }

    /// Names the owner the kept streams are written for, once it is known.
    pub(crate) fn set_owner(&mut self, owner: String) {
        if let Some((_, scope)) = &mut self.run {
            scope.owner = owner;
        }
    }

    /// What the cache held for `stream`, if anything usable.
    pub(crate) fn recall<T: DeserializeOwned>(&self, stream: &str) -> Option<Recalled<T>> {
        let entry = self.recalled.get(stream)?;
        match serde_json::from_str(&entry.records) {
            Ok(records) => Some(Recalled {
                read_at: entry.read_at,
                full_at: entry.full_at,
                records,
            }),
            Err(e) => {
                tracing::debug!("cached {stream} unreadable ({e}); reading it whole");
                None
            }
        }
    }

    /// When the cached `stream` was read, if it is cached.
    pub(crate) fn read_at(&self, stream: &str) -> Option<DateTime<Utc>> {
        self.recalled.get(stream).map(|e| e.read_at)
    }

    /// The projects of the cached merge requests and issues, whose visibility a re-run checks.
    pub(crate) fn cached_projects(&self) -> Vec<u64> {
        #[derive(serde::Deserialize)]
        struct InProject {
            project_id: Option<u64>,
        }
        let mut projects = std::collections::BTreeSet::new();
        for (stream, entry) in &self.recalled {
            if !["merge_requests/", "reviews/", "issues/"]
                .iter()
                .any(|prefix| stream.starts_with(prefix))
            {
                continue;
            }
            if let Ok(records) = serde_json::from_str::<Vec<InProject>>(&entry.records) {
                projects.extend(records.into_iter().filter_map(|r| r.project_id));
            }
        }
        projects.into_iter().collect()
    }

    /// Records `stream` for the write at the end of this owner's harvest.
    pub(crate) fn keep<T: Serialize>(
        &self,
        stream: &str,
        read_at: DateTime<Utc>,
        full_at: DateTime<Utc>,
        records: &[T],
    ) {
        if self.run.is_none() {
            return;
        }
        let Ok(records) = serde_json::to_string(records) else {
            return;
        };
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(name, _)| name != stream);
        kept.push((
            stream.to_string(),
            Entry {
                read_at,
                full_at,
                records,
            },
        ));
    }

    /// Writes what was kept, in one transaction, on a thread of its own: the other subjects'
    /// reads, and writing the snapshot, go on meanwhile ([`RunCache::finish_writes`] waits).
    pub(crate) fn save(&self) {
        let Some((run, scope)) = &self.run else {
            return;
        };
        let kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()));
        if kept.is_empty() {
            return;
        }
        let (writer, scope) = (Arc::clone(run), scope.clone());
        let write = std::thread::Builder::new()
            .name("cache write".into())
            .spawn(move || {
                if let Err(e) = writer.cache.store(&scope, &kept) {
                    tracing::warn!("{e}; the next run reads everything again");
                }
            });
        match write {
            Ok(handle) => run
                .writes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle),
            Err(e) => {
                tracing::warn!("cache not written ({e}); the next run reads everything again")
            }
        }
    }
}

/// A stream as the cache held it.
#[derive(Debug, Clone)]
pub(crate) struct Recalled<T> {
    pub read_at: DateTime<Utc>,
    pub full_at: DateTime<Utc>,
    pub records: Vec<T>,
}

/// Records merged by id.
pub(crate) trait Keyed {
    fn key(&self) -> &str;
}

/// One list query, read whole or only for what changed since the cached read.
pub(crate) struct ListRead<T> {
    stream: String,
    started: DateTime<Utc>,
    prior: Option<Recalled<T>>,
    /// What to ask for: records updated at or after this.
    pub updated_after: DateTime<Utc>,
}

impl<T: Keyed + Serialize + DeserializeOwned> ListRead<T> {
    pub(crate) fn begin(memory: &Memory, stream: impl Into<String>, period: &Period) -> Self {
        let stream = stream.into();
        let prior: Option<Recalled<T>> = memory.recall(&stream);
        let updated_after = prior
            .as_ref()
            .map_or(period.start(), |p| period.start().max(p.read_at - MARGIN));
        ListRead {
            stream,
            started: Utc::now(),
            prior,
            updated_after,
        }
    }

    /// True when only changes are asked for.
    pub(crate) fn is_incremental(&self) -> bool {
        self.prior.is_some()
    }

    /// The cached records with `fresh` merged in; kept for the cache when the read was
    /// `complete`.
    pub(crate) fn finish(self, memory: &Memory, fresh: Vec<T>, complete: bool) -> Vec<T> {
        let full_at = self.prior.as_ref().map_or(self.started, |p| p.full_at);
        let merged = merge_by_key(self.prior.map(|p| p.records).unwrap_or_default(), fresh);
        if complete {
            memory.keep(&self.stream, self.started, full_at, &merged);
        }
        merged
    }
}

/// `prior` with `fresh` laid over it: a fresh record replaces the prior one with its key; new
/// keys are added; order: prior ones first, as they were.
pub(crate) fn merge_by_key<T: Keyed>(prior: Vec<T>, fresh: Vec<T>) -> Vec<T> {
    let mut fresh_by_key: HashMap<String, T> = HashMap::with_capacity(fresh.len());
    let mut fresh_order = Vec::with_capacity(fresh.len());
    for record in fresh {
        let key = record.key().to_string();
        if fresh_by_key.insert(key.clone(), record).is_none() {
            fresh_order.push(key);
        }
    }
    let mut merged = Vec::with_capacity(prior.len() + fresh_by_key.len());
    let mut seen = HashSet::new();
    for record in prior {
        let key = record.key().to_string();
        if !seen.insert(key.clone()) {
            continue;
        }
        merged.push(fresh_by_key.remove(&key).unwrap_or(record));
    }
    for key in fresh_order {
        if let Some(record) = fresh_by_key.remove(&key) {
            merged.push(record);
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct R(String, u32);

    impl Keyed for R {
        fn key(&self) -> &str {
            &self.0
        }
    }

    fn r(key: &str, v: u32) -> R {
        R(key.into(), v)
    }

    #[test]
    fn fresh_records_replace_cached_ones_and_new_ones_are_added() {
        let merged = merge_by_key(
            vec![r("a", 1), r("b", 1), r("c", 1)],
            vec![r("d", 2), r("b", 2)],
        );
        assert_eq!(merged, vec![r("a", 1), r("b", 2), r("c", 1), r("d", 2)]);
        assert_eq!(merge_by_key(Vec::new(), vec![r("x", 1)]), vec![r("x", 1)]);
        assert_eq!(
            merge_by_key(vec![r("a", 1), r("a", 2)], Vec::new()),
            vec![r("a", 1)],
            "each key once"
        );
    }

    fn run_cache(dir: &std::path::Path, mode: CacheMode) -> Arc<RunCache> {
        Arc::new(RunCache::new(
            Cache::open(dir, Duration::days(30)).unwrap(),
            mode,
            "https://gitlab.example.com".into(),
            "v".into(),
        ))
    }

    #[tokio::test]
    async fn a_list_read_asks_from_the_last_read_less_the_margin() {
        let dir = tempfile::tempdir().unwrap();
        let q3 = Period::parse_quarter("2026Q3", 2).unwrap();
        let run = run_cache(dir.path(), CacheMode::Use);

        let memory = Memory::load(Some(&run), "user:1".into(), &q3);
        let read: ListRead<R> = ListRead::begin(&memory, "s", &q3);
        assert!(!read.is_incremental());
        assert_eq!(
            read.updated_after,
            q3.start(),
            "a cold read asks for the period"
        );
        let started = read.started;
        let merged = read.finish(&memory, vec![r("a", 1)], true);
        assert_eq!(merged, vec![r("a", 1)]);
        memory.save();
        run.finish_writes();

        let memory = Memory::load(Some(&run), "user:1".into(), &q3);
        let read: ListRead<R> = ListRead::begin(&memory, "s", &q3);
        assert!(read.is_incremental());
        assert_eq!(read.updated_after, q3.start().max(started - MARGIN));
        // A failed re-read gives what is known but is not written.
        let merged = read.finish(&memory, vec![r("b", 1)], false);
        assert_eq!(merged, vec![r("a", 1), r("b", 1)]);
        memory.save();
        run.finish_writes();
        let memory = Memory::load(Some(&run), "user:1".into(), &q3);
        let cached: Recalled<R> = memory.recall("s").unwrap();
        assert_eq!(cached.records, vec![r("a", 1)]);
        assert_eq!(cached.read_at, started);

        // Another period, another owner: nothing recalled.
        let q4 = Period::parse_quarter("2026Q4", 2).unwrap();
        assert!(Memory::load(Some(&run), "user:1".into(), &q4)
            .recall::<R>("s")
            .is_none());
        assert!(Memory::load(Some(&run), "user:2".into(), &q3)
            .recall::<R>("s")
            .is_none());
        // --refresh: nothing recalled, everything written.
        let refresh = run_cache(dir.path(), CacheMode::Refresh);
        let memory = Memory::load(Some(&refresh), "user:1".into(), &q3);
        assert!(memory.recall::<R>("s").is_none());
    }

    /// Every record type the cache keeps, with the field names it is written with.
    fn record_shapes() -> String {
        use super::super::convert::{MergeRequestRecord, ReviewerRecord};
        use super::super::epics::EpicRecord;
        use super::super::issues::IssueRecord;
        use super::super::oncall::{Rotation, ShiftRecord};
        use super::super::timelines::{CachedIncident, Entry};
        use crate::gitlab::types::{Event, EventNote};
        fn fields(value: impl Serialize) -> String {
            let value = serde_json::to_value(value).unwrap();
            let keys: Vec<&str> = value
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            keys.join(" ")
        }
        let at = Utc::now();
        let rotation = Rotation {
            project: String::new(),
            private: false,
            schedule_iid: String::new(),
            schedule: String::new(),
            id: String::new(),
            name: String::new(),
        };
        let entry = Entry {
            author: None,
            created_at: at,
        };
        [
            ("MergeRequestRecord", fields(MergeRequestRecord::default())),
            ("ReviewerRecord", fields(ReviewerRecord::default())),
            ("IssueRecord", fields(IssueRecord::default())),
            ("EpicRecord", fields(EpicRecord::default())),
            ("Rotation", fields(&rotation)),
            (
                "ShiftRecord",
                fields(ShiftRecord {
                    rotation: rotation.clone(),
                    username: None,
                    starts_at: at,
                    ends_at: at,
                }),
            ),
            ("Entry", fields(&entry)),
            (
                "CachedIncident",
                fields(CachedIncident {
                    incident: IssueRecord::default(),
                    entries: Vec::new(),
                }),
            ),
            ("Event", fields(Event::default())),
            (
                "EventNote",
                fields(EventNote {
                    noteable_type: None,
                    noteable_iid: None,
                    created_at: None,
                }),
            ),
        ]
        .map(|(name, fields)| format!("{name}: {fields}"))
        .join("\n")
    }

    /// The records' shapes as schema version 1 writes them.
    const SHAPES_V1: &str = concat!(
        "MergeRequestRecord: additions approved_by author changed_paths closed_at created_at deletions description draft id iid labels merged_at project project_id reviewers state title updated_at visibility web_url\n",
        "ReviewerRecord: approved review_state username\n",
        "IssueRecord: assignees author closed_at confidential created_at description id iid incident labels project project_id relevant_type severity state title updated_at web_url\n",
        "EpicRecord: author child_count closed_at confidential created_at description group group_visibility id iid labels state title updated_at web_url\n",
        "Rotation: id name private project schedule schedule_iid\n",
        "ShiftRecord: ends_at rotation starts_at username\n",
        "Entry: author created_at\n",
        "CachedIncident: entries incident\n",
        "Event: action_name created_at id note project_id target_iid target_type\n",
        "EventNote: created_at noteable_iid noteable_type",
    );

    #[test]
    fn cached_record_shapes_go_with_the_schema_version() {
        assert_eq!(
            (crate::cache::SCHEMA_VERSION, record_shapes().as_str()),
            (1, SHAPES_V1),
            "a cached record type changed shape: bump cache::SCHEMA_VERSION (a cache written \
             by the old shape would be misread) and pin the new shapes here"
        );
    }
}
