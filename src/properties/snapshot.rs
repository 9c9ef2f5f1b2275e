//! Snapshots: any JSON, and real snapshots with random damage, are read or rejected with a
//! message; what is read writes back and reads the same, and classifies and renders without a
//! panic (a snapshot is a file anyone can hand to `report`).

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{cases, tricky_string};
use crate::fuzzing::{classify_and_render, snapshot_text};

const DEMO: &str = include_str!("../../data/demo/snapshot.json");

/// Keys a snapshot, an item or a source has, so random objects often look like them.
const KEYS: &[&str] = &[
    "format",
    "version",
    "generated_at",
    "gitlab_url",
    "period",
    "from",
    "to",
    "subjects",
    "username",
    "name",
    "id",
    "sources",
    "subject",
    "status",
    "detail",
    "items",
    "requests",
    "kind",
    "role",
    "web_url",
    "title",
    "description",
    "project",
    "group",
    "labels",
    "state",
    "created_at",
    "updated_at",
    "merged_at",
    "closed_at",
    "confidential",
    "comments",
    "approved",
    "additions",
    "deletions",
    "changed_paths",
    "child_count",
    "severity",
    "timeline_events",
    "starts_at",
    "ends_at",
    "duration_hours",
    "competencies",
    "score",
    "rule",
    "reasons",
    "curation",
    "hidden",
    "highlight",
    "note",
    "overridden",
    "classification",
    "framework",
    "rules",
    "shard",
    "group_path",
];

/// Strings a snapshot holds: enum names, dates (valid, odd and impossible), URLs, text.
fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => tricky_string(12),
        2 => prop::sample::select(vec![
            "gl-evidence/snapshot", "merge_request", "review", "issue", "epic", "incident",
            "oncall_shift", "interview", "author", "reviewer", "approver", "ok", "partial",
            "failed", "skipped", "merged", "opened", "closed", "technical-1", "leadership-3",
            "2026-07-01", "2026-09-30", "2026-08-12T10:00:00Z", "+262143-12-31", "-262144-01-01",
            "0000-01-01", "9999-12-31", "2026-02-30", "+262143-12-31T23:59:59Z",
            "1970-01-01T00:00:00+14:00", "https://gitlab.example.com/g/p/-/merge_requests/1",
            "severity::1", "gitlab-com/gl-infra",
        ])
        .prop_map(str::to_string),
    ]
}

fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..10).prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        (-1.0f64..1.0).prop_map(Value::from),
    ]
}

/// Any JSON value, its objects often keyed like a snapshot's.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        json_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        3 => prop::sample::select(KEYS).prop_map(str::to_string),
                        1 => tricky_string(6)
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One way to damage a JSON document.
#[derive(Debug, Clone)]
enum Damage {
    Replace(Value),
    Remove,
    Insert(String, Value),
    Duplicate,
    Stringify,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => json_value().prop_map(Damage::Replace),
        2 => Just(Damage::Remove),
        1 => (prop::sample::select(KEYS), json_value())
            .prop_map(|(k, v)| Damage::Insert(k.to_string(), v)),
        1 => Just(Damage::Duplicate),
        1 => Just(Damage::Stringify),
    ]
}

/// Applies `damage` somewhere in `value`: `path` picks a child at each level (modulo the
/// number of children) while there is path left and the child is a container.
fn apply(value: &mut Value, path: &[usize], damage: &Damage) {
    let children = match value {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    let Some((&first, rest)) = path.split_first().filter(|_| children > 0) else {
        if let Damage::Replace(v) = damage {
            *value = v.clone();
        }
        return;
    };
    let at = first % children;
    if !rest.is_empty() {
        let child = match value {
            Value::Array(a) => &mut a[at],
            Value::Object(o) => o.values_mut().nth(at).unwrap(),
            _ => unreachable!(),
        };
        if child.is_array() || child.is_object() {
            return apply(child, rest, damage);
        }
    }
    match (value, damage) {
        (Value::Array(a), Damage::Remove) => {
            a.remove(at);
        }
        (Value::Array(a), Damage::Duplicate) => {
            let copy = a[at].clone();
            a.insert(at, copy);
        }
        (Value::Array(a), Damage::Replace(v)) => a[at] = v.clone(),
        (Value::Array(a), Damage::Stringify) => a[at] = Value::String(a[at].to_string()),
        (Value::Array(a), Damage::Insert(_, v)) => a.insert(at, v.clone()),
        (Value::Object(o), Damage::Remove) => {
            let key = o.keys().nth(at).unwrap().clone();
            o.remove(&key);
        }
        (Value::Object(o), Damage::Replace(v)) => *o.values_mut().nth(at).unwrap() = v.clone(),
        (Value::Object(o), Damage::Stringify) => {
            let child = o.values_mut().nth(at).unwrap();
            *child = Value::String(child.to_string());
        }
        (Value::Object(o), Damage::Insert(k, v)) => {
            o.insert(k.clone(), v.clone());
        }
        (Value::Object(_), Damage::Duplicate) => {}
        _ => unreachable!(),
    }
}

/// The demo snapshot with a few pieces of damage.
fn damaged_demo() -> impl Strategy<Value = Value> {
    let demo: Value = serde_json::from_str(DEMO).unwrap();
    prop::collection::vec(
        (prop::collection::vec(any::<usize>(), 1..5), damage()),
        1..4,
    )
    .prop_map(move |hits| {
        let mut value = demo.clone();
        for (path, damage) in &hits {
            apply(&mut value, path, damage);
        }
        value
    })
}

/// The demo snapshot's text with bytes flipped, cut, inserted or removed.
fn damaged_demo_text() -> impl Strategy<Value = String> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6).prop_map(
        |edits| {
            let mut bytes = DEMO.as_bytes().to_vec();
            for (at, byte, op) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] = byte,
                    1 => bytes.truncate(i),
                    2 => bytes.insert(i, byte),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        },
    )
}

/// A snapshot envelope around random parts, so the reader gets past the format check.
fn enveloped() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(KEYS), json_value()), 0..10).prop_map(|pairs| {
        let mut object: Map<String, Value> =
            pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        object.insert("format".into(), "gl-evidence/snapshot".into());
        object.insert("version".into(), 1.into());
        Value::Object(object)
    })
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn any_json_is_read_or_explained(value in json_value()) {
        snapshot_text(&value.to_string());
    }

    #[test]
    fn any_text_is_read_or_explained(text in any::<String>()) {
        snapshot_text(&text);
    }

    #[test]
    fn any_enveloped_json_is_read_or_explained(value in enveloped()) {
        snapshot_text(&value.to_string());
    }

    #[test]
    fn damaged_demo_snapshots_are_read_or_explained(value in damaged_demo()) {
        snapshot_text(&value.to_string());
    }

    #[test]
    fn damaged_demo_text_is_read_or_explained(text in damaged_demo_text()) {
        snapshot_text(&text);
    }
}

proptest! {
    // Rendering eight reports per case is the dear part: fewer cases.
    #![proptest_config(cases(24))]

    #[test]
    fn damaged_snapshots_that_read_classify_and_render(value in damaged_demo()) {
        if let Some(snapshot) = snapshot_text(&value.to_string()) {
            classify_and_render(snapshot);
        }
    }
}
