//! `${NAME}` placeholders in scenario files and feature docstrings (`${A}`, `${canonical:A}`,
//! `${bucket}`, `${run}`).
//!
//! Only names the caller knows are replaced; everything else (IAM policy variables such as
//! `${aws:username}`) is left as written, so one policy file serves the emulator, real
//! accounts and the policy engine's tests.

/// Replaces each `${name}` for which `lookup` returns a value.
pub fn substitute(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => match lookup(&after[..end]) {
                Some(v) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str("${");
                    rest = after;
                }
            },
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_known_names_only() {
        let f = |k: &str| match k {
            "A" => Some("111111111111".to_owned()),
            "bucket" => Some("data".to_owned()),
            _ => None,
        };
        assert_eq!(
            substitute("arn:aws:s3:::${bucket}/home/${aws:username}/${A}", f),
            "arn:aws:s3:::data/home/${aws:username}/111111111111"
        );
        assert_eq!(substitute("${", f), "${");
        assert_eq!(substitute("x${A", f), "x${A");
        assert_eq!(substitute("${A}${A}", f), "111111111111111111111111");
    }
}
