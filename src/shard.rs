//! Sharding a harvest across parallel jobs (`harvest --shard N/M`): each job takes its slice of
//! the sorted member list, and records the whole list so `merge` can tell whether every shard
//! came back and nobody fell between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The snapshot key (`extra`) a shard's harvest is recorded under.
pub const SHARD_KEY: &str = "shard";

/// One of `total` slices, numbered from 1 (as GitLab's `CI_NODE_INDEX` is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(String);

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        let usage = |problem: &str| {
            let mut message = format!(
                "{problem}: --shard wants N/M, this job's number and the number of jobs, e.g. 2/5"
            );
            // `$CI_NODE_INDEX/$CI_NODE_TOTAL` outside a parallel job expands to "/".
            if value.split('/').any(str::is_empty) {
                message.push_str(
                    "\n  hint: on GitLab CI, CI_NODE_INDEX and CI_NODE_TOTAL are set only in jobs with `parallel:`",
                );
            }
            ShardError(message)
        };
        let Some((index, total)) = value.split_once('/') else {
            return Err(usage(&format!("{value:?} has no '/'")));
        };
        let number = |part: &str, what: &str| -> Result<u32, ShardError> {
            part.trim().parse::<u32>().map_err(|_| {
                usage(&format!(
                    "{what} {part:?} in {value:?} is not a whole number"
                ))
            })
        };
        let index = number(index, "N")?;
        let total = number(total, "M")?;
        if total == 0 {
            return Err(usage(&format!("{value:?} splits into no shards")));
        }
        if index == 0 {
            return Err(ShardError(format!(
                "{value:?}: shards are numbered from 1: use 1/{total} to {total}/{total}"
            )));
        }
        if index > total {
            return Err(ShardError(format!(
                "{value:?}: there is no shard {index} of {total}: N must be between 1 and {total}"
            )));
        }
        Ok(Shard { index, total })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// What a shard records in its snapshot: which slice it is, and the whole list it was cut from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub index: u32,
    pub total: u32,
    /// Every username of the list, sorted, not only this shard's.
    pub members: Vec<String>,
}

impl Shard {
    /// Splits `usernames` (duplicates, compared without case, count once) by sorted position:
    /// the person at position `i` goes to shard `i % total + 1`, so shards differ in size by
    /// at most one and every job, given the same list, cuts it the same way.
    pub fn select(self, usernames: &[String]) -> (Vec<String>, ShardRecord) {
        let mut members: Vec<String> = Vec::new();
        for name in usernames {
            if !members.iter().any(|m| m.eq_ignore_ascii_case(name)) {
                members.push(name.clone());
            }
        }
        members.sort_by_key(|m| m.to_ascii_lowercase());
        let mine = members
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as u64 % u64::from(self.total)) + 1 == u64::from(self.index))
            .map(|(_, m)| m.clone())
            .collect();
        let record = ShardRecord {
            index: self.index,
            total: self.total,
            members,
        };
        (mine, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_n_of_m() {
        assert_eq!(
            "2/5".parse::<Shard>().unwrap(),
            Shard { index: 2, total: 5 }
        );
        assert_eq!(
            " 1 / 1 ".parse::<Shard>().unwrap(),
            Shard { index: 1, total: 1 }
        );
        assert_eq!(Shard { index: 3, total: 4 }.to_string(), "3/4");
    }

    #[test]
    fn bad_shards_say_what_is_wrong() {
        let err = |text: &str| text.parse::<Shard>().unwrap_err().to_string();
        assert!(err("2").contains("has no '/'"), "{}", err("2"));
        assert!(err("0/5").contains("numbered from 1"), "{}", err("0/5"));
        assert!(err("6/5").contains("no shard 6 of 5"), "{}", err("6/5"));
        assert!(err("1/0").contains("no shards"), "{}", err("1/0"));
        assert!(err("a/5").contains("not a whole number"), "{}", err("a/5"));
        assert!(
            err("-1/5").contains("not a whole number"),
            "{}",
            err("-1/5")
        );
        // What `$CI_NODE_INDEX/$CI_NODE_TOTAL` gives outside a parallel job.
        assert!(err("/").contains("parallel:"), "{}", err("/"));
        assert!(!err("a/5").contains("parallel:"), "{}", err("a/5"));
    }

    #[test]
    fn shards_cover_the_sorted_list_once_and_evenly() {
        let list = names(&[
            "erin", "Bob", "alice", "dave", "carol", "bob", "frank", "grace",
        ]);
        let total = 3;
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        for index in 1..=total {
            let (mine, record) = Shard { index, total }.select(&list);
            assert_eq!(
                record.members,
                names(&["alice", "Bob", "carol", "dave", "erin", "frank", "grace"])
            );
            sizes.push(mine.len());
            seen.extend(mine);
        }
        seen.sort_by_key(|m| m.to_ascii_lowercase());
        assert_eq!(
            seen,
            names(&["alice", "Bob", "carol", "dave", "erin", "frank", "grace"])
        );
        assert_eq!(sizes, [3, 2, 2]);
        // The same list in another order is cut the same way.
        let mut shuffled = list.clone();
        shuffled.reverse();
        let lower: Vec<String> = Shard { index: 2, total }
            .select(&shuffled)
            .0
            .iter()
            .map(|m| m.to_ascii_lowercase())
            .collect();
        assert_eq!(lower, names(&["bob", "erin"]));
    }

    #[test]
    fn more_shards_than_people_leaves_some_empty() {
        let (mine, record) = Shard { index: 4, total: 4 }.select(&names(&["a", "b"]));
        assert!(mine.is_empty());
        assert_eq!(record.members, names(&["a", "b"]));
    }
}
