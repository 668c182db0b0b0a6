//! Splitting a large listing into key ranges that are listed side by side.
//!
//! A ListObjectsV2 page costs a round trip and, in the SDK, ~3 ms of CPU to parse per 1,000
//! keys; one continuation chain per side leaves the other cores (and, on S3, the network)
//! idle. When the first page of the source is truncated, ferry estimates where the listing
//! ends and cuts the keys into ranges of about equal size; each range is listed on both sides
//! and merge-joined by its own planner.
//!
//! The estimate treats keys as numbers written in the alphabet of the first page's keys
//! ([`Space`]), then narrows down the last key with a few rounds of one-key probes
//! (`StartAfter`, `MaxKeys=1`), 15 at a time. A poor estimate costs balance, never
//! correctness: the ranges are consecutive and cover every key exactly once, whatever the
//! boundaries are.

use futures::future::join_all;

use super::clients::Side;
use super::listing::page;

/// Keys (relative to the listing's root) after `after` (exclusive) up to `upto` (inclusive);
/// `None` is unbounded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub after: Option<String>,
    pub upto: Option<String>,
}

impl Range {
    /// Whether `rel` is past the end of the range.
    pub fn past_end(&self, rel: &str) -> bool {
        self.upto
            .as_deref()
            .is_some_and(|u| rel.as_bytes() > u.as_bytes())
    }

    /// Consecutive ranges with the given boundaries (sorted, distinct): the first from the
    /// start, the last to the end.
    pub fn consecutive(bounds: &[String]) -> Vec<Range> {
        let mut out = Vec::with_capacity(bounds.len() + 1);
        let mut after = None;
        for b in bounds {
            out.push(Range {
                after: after.clone(),
                upto: Some(b.clone()),
            });
            after = Some(b.clone());
        }
        out.push(Range { after, upto: None });
        out
    }
}

/// Keys as numbers: each of the first `width` bytes is a digit in `alphabet` (the ASCII bytes
/// seen); a byte outside it counts as the largest alphabet byte below it. Byte order and
/// numeric order agree for keys written in the alphabet.
#[derive(Clone, Debug)]
pub struct Space {
    alphabet: Vec<u8>,
    width: u32,
    base: u128,
}

impl Space {
    /// `None` when the keys use fewer than two ASCII bytes (nothing to split on).
    pub fn from_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<Space> {
        let mut seen = [false; 128];
        let mut longest = 0;
        for k in keys {
            longest = longest.max(k.len());
            for &b in k.as_bytes() {
                if b < 128 {
                    seen[b as usize] = true;
                }
            }
        }
        let alphabet: Vec<u8> = (0u8..128).filter(|&b| seen[b as usize]).collect();
        if alphabet.len() < 2 || longest == 0 {
            return None;
        }
        let base = alphabet.len() as u128;
        // base^width must fit in a u128 with room for the arithmetic on it.
        let bits = 128 - (base - 1).leading_zeros();
        let width = (longest as u32).min(120 / bits).max(1);
        Some(Space {
            alphabet,
            width,
            base,
        })
    }

    fn digit(&self, b: u8) -> u128 {
        match self.alphabet.binary_search(&b) {
            Ok(i) => i as u128,
            Err(0) => 0,
            Err(i) => (i - 1) as u128,
        }
    }

    pub fn value(&self, key: &str) -> u128 {
        let bytes = key.as_bytes();
        (0..self.width as usize).fold(0u128, |v, i| {
            v * self.base + bytes.get(i).map(|&b| self.digit(b)).unwrap_or(0)
        })
    }

    /// The largest value (every digit the largest byte).
    pub fn max(&self) -> u128 {
        self.base.pow(self.width) - 1
    }

    /// The key of a value (`width` bytes of the alphabet, trailing smallest bytes dropped).
    pub fn key(&self, mut v: u128) -> String {
        let mut digits = vec![0u8; self.width as usize];
        for d in digits.iter_mut().rev() {
            *d = self.alphabet[(v % self.base) as usize];
            v /= self.base;
        }
        while digits.len() > 1 && digits.last() == Some(&self.alphabet[0]) {
            digits.pop();
        }
        // ASCII only: always UTF-8.
        String::from_utf8_lossy(&digits).into_owned()
    }
}

/// Where to cut the listing of `s3://bucket/prefix` into `ranges` ranges (keys relative to
/// `prefix`). Empty when the listing fits in one page, cannot be estimated, or a request
/// still fails after its retries (the listing proper then reports the error).
pub async fn split_points(side: &Side, bucket: &str, prefix: &str, ranges: usize) -> Vec<String> {
    if ranges < 2 {
        return Vec::new();
    }
    let Ok(first) = page(side, bucket, prefix, None, None, 1000).await else {
        return Vec::new();
    };
    if first.is_truncated() != Some(true) {
        return Vec::new();
    }
    let rel: Vec<&str> = first
        .contents()
        .iter()
        .filter_map(|o| o.key()?.strip_prefix(prefix))
        .collect();
    let (Some(&head), Some(&tail)) = (rel.first(), rel.last()) else {
        return Vec::new();
    };
    let Some(space) = Space::from_keys(rel.iter().copied()) else {
        return Vec::new();
    };
    let start = space.value(head);
    // The last key is in (a, b].
    let mut a = space.value(tail);
    let mut b = space.max();
    for _round in 0..8 {
        if a >= b || b - a <= (a - start) / 16 {
            break;
        }
        let step = (b - a) / 16;
        if step == 0 {
            break;
        }
        let points: Vec<u128> = (1..16).map(|i| a + step * i).collect();
        let found = join_all(points.iter().map(|&p| {
            let after = format!("{prefix}{}", space.key(p));
            async move {
                page(side, bucket, prefix, Some(&after), None, 1)
                    .await
                    .map(|out| {
                        out.contents()
                            .first()
                            .and_then(|o| o.key()?.strip_prefix(prefix).map(str::to_owned))
                    })
            }
        }))
        .await;
        if found.iter().any(Result::is_err) {
            return Vec::new();
        }
        match found.iter().rposition(|f| matches!(f, Ok(Some(_)))) {
            Some(i) => {
                let seen = match &found[i] {
                    Ok(Some(k)) => space.value(k),
                    _ => points[i],
                };
                a = a.max(points[i]).max(seen);
                if let Some(&next) = points.get(i + 1) {
                    b = next;
                }
            }
            None => b = points[0],
        }
    }
    let end = b.max(start);
    let span = (end - start) / ranges as u128;
    if span == 0 {
        return Vec::new();
    }
    let mut bounds: Vec<String> = (1..ranges as u128)
        .map(|j| space.key(start + span * j))
        .filter(|k| k.as_bytes() >= head.as_bytes())
        .collect();
    bounds.sort_unstable_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    bounds.dedup();
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_byte_order_within_the_alphabet() {
        // A first page of numbered keys: every digit appears.
        let page: Vec<String> = (0..1000).map(|i| format!("obj{i:07}")).collect();
        let s = Space::from_keys(page.iter().map(String::as_str)).unwrap();
        let mut sorted: Vec<String> = (0..2000).map(|i| format!("obj{:07}", i * 37)).collect();
        sorted.sort();
        let values: Vec<u128> = sorted.iter().map(|k| s.value(k)).collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]));
        // A key round-trips through its value.
        assert_eq!(s.key(s.value("obj0012345")), "obj0012345");
        assert!(s.value("obj0012345") < s.max());
    }

    #[test]
    fn keys_of_values_are_ordered_and_ascii() {
        let s = Space::from_keys(["2024/01/02/a.log", "2024/12/31/zz.log"]).unwrap();
        let lo = s.value("2024/01/02/a.log");
        let hi = s.value("2024/12/31/zz.log");
        let step = (hi - lo) / 10;
        let ks: Vec<String> = (0..=10).map(|i| s.key(lo + step * i)).collect();
        assert!(ks.windows(2).all(|w| w[0] < w[1]), "{ks:?}");
        assert!(ks.iter().all(|k| k.is_ascii()));
    }

    #[test]
    fn one_symbol_or_no_keys_cannot_be_split() {
        assert!(Space::from_keys(["aaaa", "aa"]).is_none());
        assert!(Space::from_keys(Vec::<&str>::new()).is_none());
        // Non-ASCII bytes are not digits but do not break the mapping.
        let s = Space::from_keys(["é1", "é2", "x"]).unwrap();
        assert!(s.value("é1") <= s.value("é2"));
    }

    #[test]
    fn ranges_are_consecutive_and_cover_everything() {
        let r = Range::consecutive(&["b".to_owned(), "m".to_owned()]);
        assert_eq!(r.len(), 3);
        assert_eq!(
            (r[0].after.as_deref(), r[0].upto.as_deref()),
            (None, Some("b"))
        );
        assert_eq!(
            (r[1].after.as_deref(), r[1].upto.as_deref()),
            (Some("b"), Some("m"))
        );
        assert_eq!(
            (r[2].after.as_deref(), r[2].upto.as_deref()),
            (Some("m"), None)
        );
        // Every key falls in exactly one range.
        for key in ["", "a", "b", "ba", "m", "m0", "zz"] {
            let n = r
                .iter()
                .filter(|x| {
                    x.after
                        .as_deref()
                        .is_none_or(|a| key.as_bytes() > a.as_bytes())
                        && !x.past_end(key)
                })
                .count();
            assert_eq!(n, 1, "{key}");
        }
        assert_eq!(Range::consecutive(&[]), vec![Range::default()]);
    }
}
