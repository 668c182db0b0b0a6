//! The sync plan: a merge join of the source and destination listings, both in S3's key order
//! (UTF-8 byte order), yielding one action per key without holding either listing in memory.
//!
//! Comparison (`--compare`): `checksum` (same full-object checksum), `etag` (size and ETag; only
//! meaningful for single-part objects, or identical part layouts), `size-mtime` (size, and the
//! destination not older than the source), `size`. `auto` picks the strongest the two entries
//! allow: checksum when both carry the same algorithm's full-object checksum, else size+ETag
//! when both are single-part, else size and modification time.

use std::cmp::Ordering;
use std::iter::Peekable;

/// One listed object (key relative to the listing's prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub size: u64,
    /// The ETag without quotes.
    pub etag: Option<String>,
    /// Last modification, seconds since the epoch.
    pub modified: i64,
    /// A full-object checksum: (algorithm, base64 value), when the listing gave one.
    pub checksum: Option<(String, String)>,
    /// The algorithm of a full-object checksum the object is known to have, value unknown
    /// (S3 listings name it; a HEAD gives the value).
    pub checksum_alg: Option<String>,
}

impl Entry {
    fn multipart(&self) -> bool {
        self.etag.as_deref().is_some_and(|e| e.contains('-'))
    }

    /// The full-object checksum algorithm, with or without its value.
    fn algorithm(&self) -> Option<&str> {
        self.checksum
            .as_ref()
            .map(|(a, _)| a.as_str())
            .or(self.checksum_alg.as_deref())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    Auto,
    Checksum,
    Etag,
    SizeMtime,
    Size,
}

impl std::str::FromStr for Compare {
    type Err = String;
    fn from_str(s: &str) -> Result<Compare, String> {
        match s {
            "auto" => Ok(Compare::Auto),
            "checksum" => Ok(Compare::Checksum),
            "etag" => Ok(Compare::Etag),
            "size-mtime" => Ok(Compare::SizeMtime),
            "size" => Ok(Compare::Size),
            _ => Err(format!(
                "`{s}` is not one of auto, checksum, etag, size-mtime, size"
            )),
        }
    }
}

/// Why a key is copied or skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    Missing,
    SizeDiffers,
    ChecksumDiffers,
    EtagDiffers,
    SourceNewer,
    /// Every listed key (`copy` copies without comparing).
    Listed,
    /// Both sides have a full-object checksum of the same algorithm, but the listings do not
    /// carry the values: fetch them (HEAD) and compare.
    NeedsChecksum,
    /// Equal under the named comparison.
    Same(Compare),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Copy {
        entry: Entry,
        reason: Reason,
    },
    Skip {
        key: String,
        reason: Reason,
    },
    Delete {
        key: String,
    },
    /// Compare the two entries' checksums (fetched) before deciding.
    Check {
        entry: Entry,
        dst: Entry,
    },
}

/// Decides one key present on both sides.
pub fn compare(src: &Entry, dst: &Entry, mode: Compare) -> Reason {
    let same_alg = match (src.algorithm(), dst.algorithm()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    let mode = match mode {
        Compare::Auto => match (&src.checksum, &dst.checksum) {
            (Some((a, _)), Some((b, _))) if a.eq_ignore_ascii_case(b) => Compare::Checksum,
            _ if !src.multipart()
                && !dst.multipart()
                && src.etag.is_some()
                && dst.etag.is_some() =>
            {
                Compare::Etag
            }
            _ if same_alg => Compare::Checksum,
            _ => Compare::SizeMtime,
        },
        m => m,
    };
    if src.size != dst.size {
        return Reason::SizeDiffers;
    }
    match mode {
        Compare::Checksum => match (&src.checksum, &dst.checksum) {
            (Some((a, x)), Some((b, y))) if a.eq_ignore_ascii_case(b) => {
                if x == y {
                    Reason::Same(mode)
                } else {
                    Reason::ChecksumDiffers
                }
            }
            _ if same_alg => Reason::NeedsChecksum,
            _ => Reason::ChecksumDiffers,
        },
        Compare::Etag => {
            if src.etag.is_some() && src.etag == dst.etag {
                Reason::Same(mode)
            } else {
                Reason::EtagDiffers
            }
        }
        Compare::SizeMtime => {
            if src.modified > dst.modified {
                Reason::SourceNewer
            } else {
                Reason::Same(mode)
            }
        }
        Compare::Size | Compare::Auto => Reason::Same(Compare::Size),
    }
}

/// The merge join. Both inputs must be sorted by key (byte order) without duplicates.
pub struct Planner<S: Iterator<Item = Entry>, D: Iterator<Item = Entry>> {
    src: Peekable<S>,
    dst: Peekable<D>,
    mode: Compare,
    delete: bool,
}

impl<S: Iterator<Item = Entry>, D: Iterator<Item = Entry>> Planner<S, D> {
    pub fn new(src: S, dst: D, mode: Compare, delete: bool) -> Self {
        Planner {
            src: src.peekable(),
            dst: dst.peekable(),
            mode,
            delete,
        }
    }
}

impl<S: Iterator<Item = Entry>, D: Iterator<Item = Entry>> Iterator for Planner<S, D> {
    type Item = Action;

    fn next(&mut self) -> Option<Action> {
        loop {
            let order = match (self.src.peek(), self.dst.peek()) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(s), Some(d)) => s.key.as_bytes().cmp(d.key.as_bytes()),
            };
            match order {
                Ordering::Less => {
                    let entry = self.src.next()?;
                    return Some(Action::Copy {
                        entry,
                        reason: Reason::Missing,
                    });
                }
                Ordering::Greater => {
                    let d = self.dst.next()?;
                    if self.delete {
                        return Some(Action::Delete { key: d.key });
                    }
                }
                Ordering::Equal => {
                    let s = self.src.next()?;
                    let d = self.dst.next()?;
                    return Some(match compare(&s, &d, self.mode) {
                        Reason::Same(m) => Action::Skip {
                            key: s.key,
                            reason: Reason::Same(m),
                        },
                        Reason::NeedsChecksum => Action::Check { entry: s, dst: d },
                        reason => Action::Copy { entry: s, reason },
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn e(key: &str, size: u64, etag: &str, modified: i64) -> Entry {
        Entry {
            key: key.into(),
            size,
            etag: Some(etag.into()),
            modified,
            checksum: None,
            checksum_alg: None,
        }
    }

    #[test]
    fn merge_join() {
        let src = vec![e("a", 1, "x", 10), e("b", 2, "y", 10), e("d", 4, "w", 10)];
        let dst = vec![e("b", 2, "y", 20), e("c", 3, "z", 20), e("d", 5, "w", 20)];
        let plan: Vec<_> =
            Planner::new(src.into_iter(), dst.into_iter(), Compare::Auto, true).collect();
        assert_eq!(plan.len(), 4);
        assert!(
            matches!(&plan[0], Action::Copy { entry, reason: Reason::Missing } if entry.key == "a")
        );
        assert!(
            matches!(&plan[1], Action::Skip { key, reason: Reason::Same(Compare::Etag) } if key == "b")
        );
        assert!(matches!(&plan[2], Action::Delete { key } if key == "c"));
        assert!(matches!(
            &plan[3],
            Action::Copy {
                reason: Reason::SizeDiffers,
                ..
            }
        ));
    }

    #[test]
    fn auto_picks_the_strongest_comparison() {
        let mut s = e("k", 5, "aaa-2", 10);
        let mut d = e("k", 5, "bbb-3", 5);
        // Multipart ETags differ with part layout: fall back to size + mtime.
        assert_eq!(compare(&s, &d, Compare::Auto), Reason::SourceNewer);
        s.checksum = Some(("CRC64NVME".into(), "abc".into()));
        d.checksum = Some(("CRC64NVME".into(), "abc".into()));
        assert_eq!(
            compare(&s, &d, Compare::Auto),
            Reason::Same(Compare::Checksum)
        );
        d.checksum = Some(("CRC64NVME".into(), "abd".into()));
        assert_eq!(compare(&s, &d, Compare::Auto), Reason::ChecksumDiffers);
        assert_eq!(
            compare(&e("k", 1, "x", 1), &e("k", 1, "y", 1), Compare::Auto),
            Reason::EtagDiffers
        );
        assert_eq!(
            compare(&e("k", 1, "x", 9), &e("k", 1, "y", 1), Compare::Size),
            Reason::Same(Compare::Size)
        );
        // Multipart on both sides, same full-object algorithm named by the listings: the
        // values must be fetched.
        let mut s = e("k", 5, "aaa-2", 10);
        let mut d = e("k", 5, "bbb-3", 5);
        s.checksum_alg = Some("CRC64NVME".into());
        d.checksum_alg = Some("CRC64NVME".into());
        assert_eq!(compare(&s, &d, Compare::Auto), Reason::NeedsChecksum);
        assert_eq!(compare(&s, &d, Compare::Checksum), Reason::NeedsChecksum);
        d.checksum_alg = Some("CRC32".into());
        assert_eq!(compare(&s, &d, Compare::Auto), Reason::SourceNewer);
    }

    #[test]
    fn byte_order_not_char_order() {
        // "é" (0xC3 0xA9) sorts after "z" in S3's byte order.
        let src = vec![e("z", 1, "x", 1), e("é", 1, "x", 1)];
        let dst = vec![e("z", 1, "x", 1), e("é", 1, "x", 1)];
        let plan: Vec<_> =
            Planner::new(src.into_iter(), dst.into_iter(), Compare::Auto, true).collect();
        assert!(
            plan.iter().all(|a| matches!(a, Action::Skip { .. })),
            "{plan:?}"
        );
    }

    fn listing() -> impl Strategy<Value = BTreeMap<String, (u64, u8)>> {
        proptest::collection::btree_map("[a-c]{1,3}", (0u64..4, 0u8..3), 0..20)
    }

    fn entries(m: &BTreeMap<String, (u64, u8)>) -> Vec<Entry> {
        m.iter()
            .map(|(k, (size, tag))| e(k, *size, &format!("e{tag}"), 100))
            .collect()
    }

    proptest! {
        #[test]
        fn a_second_sync_plans_nothing(src in listing(), dst in listing(), delete in any::<bool>()) {
            let mut after = dst.clone();
            for a in Planner::new(entries(&src).into_iter(), entries(&dst).into_iter(), Compare::Auto, delete) {
                match a {
                    Action::Copy { entry, .. } => { after.insert(entry.key.clone(), src[&entry.key]); }
                    Action::Delete { key } => { after.remove(&key); }
                    Action::Skip { .. } => {}
                    Action::Check { .. } => prop_assert!(false, "no checksums in this test"),
                }
            }
            let again: Vec<_> = Planner::new(entries(&src).into_iter(), entries(&after).into_iter(), Compare::Auto, delete)
                .filter(|a| !matches!(a, Action::Skip { .. }))
                .collect();
            prop_assert!(again.is_empty(), "{:?}", again);
            if delete {
                prop_assert_eq!(after.keys().collect::<Vec<_>>(), src.keys().collect::<Vec<_>>());
            }
        }
    }
}
