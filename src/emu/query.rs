//! The AWS query protocol shared by STS and IAM: form parameters in, XML out.
//!
//! Owns parameter parsing (`Action=…&RoleArn=…`, `PolicyArns.member.1.arn`), a small XML writer
//! with escaping, and the error shape (`<ErrorResponse><Error><Type/><Code/><Message/>…`).
//! The services themselves live in `sts.rs` and `iam.rs`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Form parameters of a query-protocol request.
#[derive(Debug, Default, Clone)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (body and query string alike).
    pub fn parse(parts: &[&[u8]]) -> Params {
        let mut map = BTreeMap::new();
        for part in parts {
            for pair in part.split(|b| *b == b'&') {
                if pair.is_empty() {
                    continue;
                }
                let (k, v) = match pair.iter().position(|b| *b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, &b""[..]),
                };
                map.insert(form_decode(k), form_decode(v));
            }
        }
        Params(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A required parameter, or a `ValidationError` naming it (IAM says `ValidationError` for
    /// missing parameters too; STS uses `MissingParameter` in a few places).
    pub fn required(&self, key: &str) -> Result<&str, QueryError> {
        self.get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
            QueryError::sender(
                "ValidationError",
                format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(key)),
            )
        })
    }

    /// `Prefix.member.N[.suffix]` values in order of N.
    pub fn members(&self, prefix: &str, suffix: Option<&str>) -> Vec<String> {
        let mut out: Vec<(u32, String)> = Vec::new();
        let head = format!("{prefix}.member.");
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix(&head) else {
                continue;
            };
            let (n, tail) = match rest.split_once('.') {
                Some((n, t)) => (n, Some(t)),
                None => (rest, None),
            };
            if tail != suffix {
                continue;
            }
            if let Ok(n) = n.parse::<u32>() {
                out.push((n, v.clone()));
            }
        }
        out.sort_by_key(|(n, _)| *n);
        out.into_iter().map(|(_, v)| v).collect()
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte.
pub fn form_decode(raw: &[u8]) -> String {
    let replaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// An error in the query protocol's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub status: u16,
    /// `Sender` or `Receiver`.
    pub kind: &'static str,
    pub code: String,
    pub message: String,
}

impl QueryError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> QueryError {
        QueryError {
            status,
            kind: if status >= 500 { "Receiver" } else { "Sender" },
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A 400 error from the caller.
    pub fn sender(code: &str, message: impl Into<String>) -> QueryError {
        QueryError::new(400, code, message)
    }

    pub fn access_denied(message: impl Into<String>) -> QueryError {
        QueryError::new(403, "AccessDenied", message)
    }

    pub fn no_such_entity(message: impl Into<String>) -> QueryError {
        QueryError::new(404, "NoSuchEntity", message)
    }

    /// The XML body.
    pub fn to_xml(&self, namespace: &str, request_id: &str) -> String {
        let mut x = Xml::new();
        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        x.open_ns("ErrorResponse", namespace);
        x.open("Error");
        x.leaf("Type", self.kind);
        x.leaf("Code", &self.code);
        x.leaf("Message", &self.message);
        x.close("Error");
        x.leaf("RequestId", request_id);
        x.close("ErrorResponse");
        x.finish()
    }
}

/// A minimal XML writer: elements and escaped text, nothing else.
#[derive(Debug, Default)]
pub struct Xml(String);

impl Xml {
    pub fn new() -> Xml {
        Xml(String::with_capacity(512))
    }
    pub fn raw(&mut self, s: &str) -> &mut Xml {
        self.0.push_str(s);
        self
    }
    pub fn open(&mut self, name: &str) -> &mut Xml {
        let _ = write!(self.0, "<{name}>");
        self
    }
    pub fn open_ns(&mut self, name: &str, ns: &str) -> &mut Xml {
        let _ = write!(self.0, "<{name} xmlns=\"{}\">", escape(ns));
        self
    }
    pub fn close(&mut self, name: &str) -> &mut Xml {
        let _ = write!(self.0, "</{name}>");
        self
    }
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Xml {
        let _ = write!(self.0, "<{name}>{}</{name}>", escape(text));
        self
    }
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Xml {
        if let Some(t) = text {
            self.leaf(name, t);
        }
        self
    }
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Wraps a result body in `<{Action}Response><{Action}Result>…</…><ResponseMetadata>…`.
pub fn response(action: &str, namespace: &str, result: &str, request_id: &str) -> String {
    let mut x = Xml::new();
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    x.open_ns(&format!("{action}Response"), namespace);
    if result.is_empty() {
        // Actions without output (DeleteUser, PutRolePolicy, …) have no Result element.
    } else {
        x.open(&format!("{action}Result"));
        x.raw(result);
        x.close(&format!("{action}Result"));
    }
    x.open("ResponseMetadata");
    x.leaf("RequestId", request_id);
    x.close("ResponseMetadata");
    x.close(&format!("{action}Response"));
    x.finish()
}

/// ISO 8601 with seconds, as STS and IAM print times.
pub fn iso8601(t: std::time::SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// URL-encodes a policy document as IAM returns it (`GetRolePolicy`, `GetRole`'s trust policy).
pub use crate::types::uri_encode as url_encode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_members() {
        let p = Params::parse(&[
            b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&PolicyArns.member.2.arn=b&PolicyArns.member.1.arn=a",
            b"RoleSessionName=a+b",
        ]);
        assert_eq!(p.get("Action"), Some("AssumeRole"));
        assert_eq!(p.get("RoleArn"), Some("arn:aws:iam::1:role/r"));
        assert_eq!(p.get("RoleSessionName"), Some("a b"));
        assert_eq!(p.members("PolicyArns", Some("arn")), vec!["a", "b"]);
        assert!(p.required("Missing").is_err());
    }

    #[test]
    fn xml_escapes() {
        let mut x = Xml::new();
        x.leaf("A", "<&>\"'");
        assert_eq!(x.finish(), "<A>&lt;&amp;&gt;&quot;&apos;</A>");
        let e = QueryError::access_denied("no").to_xml("ns", "rid");
        assert!(e.contains("<Code>AccessDenied</Code>"));
        assert!(e.contains("<Type>Sender</Type>"));
    }
}
