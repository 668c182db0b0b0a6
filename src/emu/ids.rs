//! Generated identifiers: access keys, secrets, session tokens and IAM unique IDs, in the
//! shapes AWS uses (`AKIA…`/`ASIA…` keys, `AIDA…` users, `AROA…` roles, `ANPA…` policies).

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_from(alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| {
            let i = (rand::random::<u32>() as usize) % alphabet.len();
            char::from(alphabet[i])
        })
        .collect()
}

/// A long-term access key ID: `AKIA` + 16 characters.
pub fn access_key_id() -> String {
    format!("AKIA{}", random_from(UPPER, 16))
}

/// A temporary access key ID: `ASIA` + 16 characters.
pub fn session_key_id() -> String {
    format!("ASIA{}", random_from(UPPER, 16))
}

/// A 40-character secret access key.
pub fn secret_key() -> String {
    random_from(SECRET, 40)
}

/// An opaque session token (long, like STS's).
pub fn session_token() -> String {
    format!("FwoGZXIvYXdzE{}", random_from(SECRET, 300))
}

/// A unique ID with the given prefix (`AIDA`, `AROA`, `ANPA`): prefix + 17 characters.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(UPPER, 17))
}

/// A request ID for responses.
pub fn request_id() -> String {
    let hex = b"0123456789abcdef";
    let h = |n| random_from(hex, n);
    format!("{}-{}-{}-{}-{}", h(8), h(4), h(4), h(4), h(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let k = access_key_id();
        assert!(k.starts_with("AKIA") && k.len() == 20, "{k}");
        let s = session_key_id();
        assert!(s.starts_with("ASIA") && s.len() == 20);
        assert_eq!(secret_key().len(), 40);
        assert_eq!(unique_id("AROA").len(), 21);
        assert_ne!(access_key_id(), access_key_id());
    }
}
