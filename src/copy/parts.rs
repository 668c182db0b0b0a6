//! Multipart planning: whether an object goes in one request or in parts, and the part ranges.
//!
//! S3's limits: at most 10,000 parts, parts of 5 MiB to 5 GiB (the last may be smaller),
//! objects up to 5 TiB, single PUT or CopyObject up to 5 GiB. The requested part size is raised
//! (to a whole MiB) when the object would otherwise need more than 10,000 parts.

use std::ops::Range;

pub const MIB: u64 = 1024 * 1024;
pub const GIB: u64 = 1024 * MIB;
pub const TIB: u64 = 1024 * GIB;
pub const MAX_PARTS: u64 = 10_000;
pub const MIN_PART_SIZE: u64 = 5 * MIB;
pub const MAX_PART_SIZE: u64 = 5 * GIB;
pub const MAX_SINGLE_SIZE: u64 = 5 * GIB;
pub const MAX_OBJECT_SIZE: u64 = 5 * TIB;

/// How one object moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartPlan {
    /// One PutObject / CopyObject.
    Single,
    /// `count` parts of `part_size` bytes (the last holds the rest).
    Multipart {
        part_size: u64,
        count: u64,
        size: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    #[error("object of {0} bytes exceeds S3's 5 TiB limit")]
    TooLarge(u64),
    #[error("part size {0} is outside S3's 5 MiB to 5 GiB range")]
    PartSize(u64),
}

impl PartPlan {
    /// The byte range of part `i` (0-based).
    pub fn range(&self, i: u64) -> Option<Range<u64>> {
        match *self {
            PartPlan::Single => None,
            PartPlan::Multipart {
                part_size,
                count,
                size,
            } => (i < count).then(|| i * part_size..((i + 1) * part_size).min(size)),
        }
    }

    /// Number of requests that carry data.
    pub fn count(&self) -> u64 {
        match self {
            PartPlan::Single => 1,
            PartPlan::Multipart { count, .. } => *count,
        }
    }
}

/// Plans an object of `size` bytes: one request below `threshold` (and never above 5 GiB),
/// else parts of at least `part_size`. `min_part` is S3's minimum part size (lower only
/// against an emulator configured for it).
pub fn plan(
    size: u64,
    threshold: u64,
    part_size: u64,
    min_part: u64,
) -> Result<PartPlan, PartError> {
    if size > MAX_OBJECT_SIZE {
        return Err(PartError::TooLarge(size));
    }
    if size < threshold.min(MAX_SINGLE_SIZE + 1) {
        return Ok(PartPlan::Single);
    }
    if part_size < min_part || part_size > MAX_PART_SIZE {
        return Err(PartError::PartSize(part_size));
    }
    let needed = size.div_ceil(MAX_PARTS);
    let mut part = part_size.max(needed);
    if part > part_size {
        part = part.div_ceil(MIB) * MIB;
    }
    let part = part.min(MAX_PART_SIZE);
    let count = size.div_ceil(part).max(1);
    Ok(PartPlan::Multipart {
        part_size: part,
        count,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_objects_go_in_one_request() {
        assert_eq!(
            plan(0, 8 * MIB, 8 * MIB, MIN_PART_SIZE),
            Ok(PartPlan::Single)
        );
        assert_eq!(
            plan(8 * MIB - 1, 8 * MIB, 8 * MIB, MIN_PART_SIZE),
            Ok(PartPlan::Single)
        );
        assert!(matches!(
            plan(8 * MIB, 8 * MIB, 8 * MIB, MIN_PART_SIZE),
            Ok(PartPlan::Multipart { count: 1, .. })
        ));
    }

    #[test]
    fn just_over_five_gib_is_multipart_even_with_a_huge_threshold() {
        let p = plan(5 * GIB + 1, 100 * GIB, 8 * MIB, MIN_PART_SIZE).unwrap();
        assert_eq!(
            p,
            PartPlan::Multipart {
                part_size: 8 * MIB,
                count: 641,
                size: 5 * GIB + 1
            }
        );
        assert_eq!(p.range(640), Some(640 * 8 * MIB..5 * GIB + 1));
        assert_eq!(p.range(641), None);
    }

    #[test]
    fn five_tib_stays_within_ten_thousand_parts() {
        let p = plan(5 * TIB, 8 * MIB, 8 * MIB, MIN_PART_SIZE).unwrap();
        let PartPlan::Multipart {
            part_size, count, ..
        } = p
        else {
            panic!("{p:?}")
        };
        assert!(count <= MAX_PARTS, "{count}");
        assert!(part_size <= MAX_PART_SIZE);
        assert_eq!(part_size % MIB, 0);
        assert_eq!(part_size, 525 * MIB);
        assert_eq!(count, 9987);
        assert!(plan(5 * TIB + 1, 8 * MIB, 8 * MIB, MIN_PART_SIZE).is_err());
    }

    #[test]
    fn part_size_limits() {
        assert_eq!(
            plan(100 * MIB, 8 * MIB, MIB, MIN_PART_SIZE),
            Err(PartError::PartSize(MIB))
        );
        assert!(
            plan(100, 10, 16, 1).is_ok(),
            "small parts against an emulator that allows them"
        );
    }

    proptest! {
        #[test]
        fn parts_tile_the_object(size in 1u64..(6 * TIB), threshold in 1u64..(64 * MIB), part in (5 * MIB)..(64 * MIB)) {
            match plan(size, threshold, part, MIN_PART_SIZE) {
                Ok(PartPlan::Single) => prop_assert!(size < threshold && size <= MAX_SINGLE_SIZE),
                Ok(p @ PartPlan::Multipart { part_size, count, .. }) => {
                    prop_assert!(count <= MAX_PARTS);
                    prop_assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size));
                    let first = p.range(0).unwrap();
                    let last = p.range(count - 1).unwrap();
                    prop_assert_eq!(first.start, 0);
                    prop_assert_eq!(last.end, size);
                    prop_assert!(last.end - last.start <= part_size && last.end > last.start);
                }
                Err(PartError::TooLarge(_)) => prop_assert!(size > MAX_OBJECT_SIZE),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
