//! Where a copy reads or writes: `s3://bucket[/prefix]` or a local path.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// One side of a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    S3 { bucket: String, prefix: String },
    Local(PathBuf),
}

/// Why a location was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("`{0}` is not a valid S3 URL: expected s3://bucket[/prefix]")]
    Malformed(String),
    #[error("`{url}`: bucket name `{bucket}` is invalid ({why})")]
    Bucket {
        url: String,
        bucket: String,
        why: String,
    },
    #[error("`{0}`: only s3:// URLs and local paths are supported")]
    Scheme(String),
    #[error("an empty location was given")]
    Empty,
}

impl FromStr for Location {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Location, UrlError> {
        if s.is_empty() {
            return Err(UrlError::Empty);
        }
        let lower = s.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("s3://").map(|_| &s[5..]) {
            let (bucket, prefix) = match rest.split_once('/') {
                Some((b, p)) => (b, p),
                None => (rest, ""),
            };
            if bucket.is_empty() {
                return Err(UrlError::Malformed(s.to_owned()));
            }
            crate::emu::s3::validate_bucket_name(bucket).map_err(|why| UrlError::Bucket {
                url: s.to_owned(),
                bucket: bucket.to_owned(),
                why,
            })?;
            return Ok(Location::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        if lower.starts_with("s3:") || lower.starts_with("s3a:") || lower.starts_with("s3n:") {
            return Err(UrlError::Malformed(s.to_owned()));
        }
        if let Some(i) = s.find("://") {
            if s[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
            {
                return Err(UrlError::Scheme(s.to_owned()));
            }
        }
        Ok(Location::Local(PathBuf::from(s)))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Location::Local(p) => write!(f, "{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_and_local() {
        assert_eq!(
            "s3://data-bucket/a/b/".parse(),
            Ok(Location::S3 {
                bucket: "data-bucket".into(),
                prefix: "a/b/".into()
            })
        );
        assert_eq!(
            "s3://data-bucket".parse(),
            Ok(Location::S3 {
                bucket: "data-bucket".into(),
                prefix: String::new()
            })
        );
        assert_eq!("./out".parse(), Ok(Location::Local(PathBuf::from("./out"))));
        assert_eq!(
            "s3://data-bucket/x"
                .parse::<Location>()
                .unwrap()
                .to_string(),
            "s3://data-bucket/x"
        );
    }

    #[test]
    fn refuses_bad_urls() {
        assert!(matches!(
            "s3://".parse::<Location>(),
            Err(UrlError::Malformed(_))
        ));
        assert!(matches!(
            "s3:/bucket".parse::<Location>(),
            Err(UrlError::Malformed(_))
        ));
        assert!(matches!(
            "s3://Bad_Bucket/x".parse::<Location>(),
            Err(UrlError::Bucket { .. })
        ));
        assert!(matches!(
            "gs://bucket/x".parse::<Location>(),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            "https://example.com/x".parse::<Location>(),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!("".parse::<Location>(), Err(UrlError::Empty)));
    }
}
