//! Identifier newtypes shared by every layer: account IDs and ARNs; and how an object key is
//! written in a URL.
//!
//! Each type validates on construction (`FromStr`), so code holding one never re-checks it.
//! Secrets (secret keys, session tokens) get their own redacting types when the emulator and
//! the copy engine need them; nothing here is secret.

use std::fmt;
use std::str::FromStr;

/// A 12-digit AWS account ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 12]);

/// Why a string is not an identifier of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not a 12-digit AWS account ID")]
    AccountId(String),
    #[error("`{value}` is not a valid ARN: {why}")]
    Arn { value: String, why: &'static str },
}

impl AccountId {
    /// The account ID as its 12 ASCII digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this conversion cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("000000000000")
    }

    /// The account's canonical user ID: 64 hex characters, stable for the account. AWS derives
    /// it opaquely; ferry's emulator uses SHA-256 of a fixed prefix and the ID, so scenario
    /// files and tests can compute it offline.
    pub fn canonical_user_id(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"ferry-canonical-user:");
        h.update(self.0);
        hex::encode(h.finalize())
    }

    /// `arn:aws:iam::ID:root`, the ARN that names the whole account.
    pub fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.as_str())
    }
}

impl FromStr for AccountId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
            return Err(IdError::AccountId(s.to_owned()));
        }
        let mut out = [0u8; 12];
        out.copy_from_slice(b);
        Ok(AccountId(out))
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An ARN split into its six components: `arn:partition:service:region:account:resource`.
///
/// The resource part may itself contain `:` and `/`. Components may be empty (S3 ARNs
/// have no region or account), but there must be six of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Arn {
    text: String,
    // Byte offsets of the five separating colons.
    colons: [usize; 5],
}

impl Arn {
    pub fn as_str(&self) -> &str {
        &self.text
    }
    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.colons[i - 1] + 1 };
        let end = if i == 5 {
            self.text.len()
        } else {
            self.colons[i]
        };
        &self.text[start..end]
    }
    pub fn partition(&self) -> &str {
        self.part(1)
    }
    pub fn service(&self) -> &str {
        self.part(2)
    }
    pub fn region(&self) -> &str {
        self.part(3)
    }
    pub fn account(&self) -> &str {
        self.part(4)
    }
    pub fn resource(&self) -> &str {
        self.part(5)
    }
    /// The six components, in order (the first is always `arn`).
    pub fn parts(&self) -> [&str; 6] {
        [
            self.part(0),
            self.part(1),
            self.part(2),
            self.part(3),
            self.part(4),
            self.part(5),
        ]
    }
}

/// Splits `s` into the six ARN components without validating their content.
pub fn split_arn(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    Some(parts)
}

impl FromStr for Arn {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| IdError::Arn {
            value: s.to_owned(),
            why,
        };
        let parts = split_arn(s).ok_or_else(|| err("it needs six `:`-separated parts"))?;
        if parts[0] != "arn" {
            return Err(err("it must start with `arn:`"));
        }
        if parts[1].is_empty() {
            return Err(err("the partition is empty"));
        }
        if parts[2].is_empty() {
            return Err(err("the service is empty"));
        }
        if parts[5].is_empty() {
            return Err(err("the resource is empty"));
        }
        let mut colons = [0usize; 5];
        let mut n = 0;
        for (i, c) in s.char_indices() {
            if c == ':' && n < 5 {
                colons[n] = i;
                n += 1;
            }
        }
        Ok(Arn {
            text: s.to_owned(),
            colons,
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// AWS's `UriEncode`: every byte but the unreserved characters `A-Z a-z 0-9 - _ . ~`.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A value percent-encoded by AWS's `UriEncode` (`/` encoded too): query values, and the
/// URL-encoded policy documents IAM returns.
pub fn uri_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED).to_string()
}

/// An object key percent-encoded as S3's `UriEncode` writes a path (`/` kept): request paths,
/// `x-amz-copy-source`, keys of `encoding-type=url` listings.
pub fn encode_key(key: &str) -> String {
    const PATH: &percent_encoding::AsciiSet = &UNRESERVED.remove(b'/');
    percent_encoding::utf8_percent_encode(key, PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!("111122223333".parse::<AccountId>().is_ok());
        for bad in [
            "",
            "11112222333",
            "1111222233334",
            "11112222333a",
            "AccountB",
        ] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad}");
        }
        let id: AccountId = "111122223333".parse().unwrap();
        assert_eq!(id.root_arn(), "arn:aws:iam::111122223333:root");
        let c = id.canonical_user_id();
        assert_eq!(c.len(), 64);
        assert!(c.chars().all(|c| c.is_ascii_hexdigit()));
        let other: AccountId = "111122223334".parse().unwrap();
        assert_ne!(c, other.canonical_user_id());
    }

    #[test]
    fn arns_split_into_six_parts() {
        let a: Arn = "arn:aws:s3:::bucket/key:with:colons".parse().unwrap();
        assert_eq!(a.service(), "s3");
        assert_eq!(a.region(), "");
        assert_eq!(a.account(), "");
        assert_eq!(a.resource(), "bucket/key:with:colons");
        let r: Arn = "arn:aws:iam::111122223333:role/path/name".parse().unwrap();
        assert_eq!(r.account(), "111122223333");
        assert_eq!(r.resource(), "role/path/name");
        for bad in [
            "arn:aws:s3::bucket",
            "aws:s3:::bucket",
            "arn::s3:::b",
            "arn:aws::::b",
            "arn:aws:s3:::",
        ] {
            assert!(bad.parse::<Arn>().is_err(), "{bad}");
        }
    }
}
