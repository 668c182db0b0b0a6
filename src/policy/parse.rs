//! JSON → [`Policy`], validating as it goes.
//!
//! Every rule AWS applies when a policy is written is checked here, with a message that names
//! the statement (by `Sid` or position) and the element, plus a JSON pointer to the offending
//! value. The emulator turns these into S3 `MalformedPolicy` and IAM `MalformedPolicyDocument`
//! errors. What this module cannot know (whether a named principal exists, whether a resource
//! belongs to the bucket the policy is put on) is checked by the emulator.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::condition::{Condition, Operator};
use super::model::*;
use super::pattern::{Pattern, Syntax};
use crate::types::AccountId;

/// Which kind of policy a document is, which decides the elements it may have and its size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum PolicyKind {
    /// An S3 bucket policy (resource-based; `Principal` required; 20 KiB).
    Bucket,
    /// An inline policy on an IAM user (2,048 characters without whitespace).
    UserInline,
    /// An inline policy on an IAM role (10,240 characters without whitespace).
    RoleInline,
    /// An inline policy on an IAM group (5,120 characters without whitespace).
    GroupInline,
    /// A customer managed policy, also used as a permissions boundary (6,144 characters).
    Managed,
    /// A role's trust policy (`Principal` required, no `Resource`; 2,048 characters).
    Trust,
    /// A session policy passed to AssumeRole (2,048 characters).
    Session,
    /// An identity-based policy of no particular kind: no `Principal`, no size limit.
    Identity,
    /// A resource-based policy of no particular service: `Principal` required, no size limit.
    Resource,
    /// Any policy, with no kind-specific rules (tests, fuzzing).
    Any,
}

impl PolicyKind {
    /// The size limit and whether whitespace counts toward it.
    fn size_limit(self) -> Option<(usize, bool)> {
        match self {
            PolicyKind::Bucket => Some((20 * 1024, true)),
            PolicyKind::UserInline | PolicyKind::Trust | PolicyKind::Session => Some((2048, false)),
            PolicyKind::RoleInline => Some((10_240, false)),
            PolicyKind::GroupInline => Some((5120, false)),
            PolicyKind::Managed => Some((6144, false)),
            PolicyKind::Identity | PolicyKind::Resource | PolicyKind::Any => None,
        }
    }

    fn is_identity(self) -> bool {
        matches!(
            self,
            PolicyKind::UserInline
                | PolicyKind::RoleInline
                | PolicyKind::GroupInline
                | PolicyKind::Managed
                | PolicyKind::Session
                | PolicyKind::Identity
        )
    }

    /// IAM's own policy kinds, which follow IAM's stricter grammar (Sid characters, the
    /// character set, no repeated elements).
    fn is_iam(self) -> bool {
        matches!(
            self,
            PolicyKind::UserInline
                | PolicyKind::RoleInline
                | PolicyKind::GroupInline
                | PolicyKind::Managed
                | PolicyKind::Trust
                | PolicyKind::Session
        )
    }

    fn name(self) -> &'static str {
        match self {
            PolicyKind::Bucket => "bucket policy",
            PolicyKind::UserInline => "inline user policy",
            PolicyKind::RoleInline => "inline role policy",
            PolicyKind::GroupInline => "inline group policy",
            PolicyKind::Managed => "managed policy",
            PolicyKind::Trust => "trust policy",
            PolicyKind::Session => "session policy",
            PolicyKind::Identity => "identity-based policy",
            PolicyKind::Resource => "resource-based policy",
            PolicyKind::Any => "policy",
        }
    }
}

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    /// The full message, naming the statement and element.
    pub message: String,
    /// A JSON pointer to the offending value (`/Statement/1/Action/0`); empty for the document.
    pub pointer: String,
}

impl PolicyError {
    fn at(pointer: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
            pointer: pointer.into(),
        }
    }
}

const TOP_LEVEL: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Parses and validates a policy document of the given kind.
pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
    if let Some((limit, whitespace_counts)) = kind.size_limit() {
        let size = if whitespace_counts {
            text.len()
        } else {
            text.chars().filter(|c| !c.is_whitespace()).count()
        };
        if size > limit {
            let unit = if whitespace_counts {
                "bytes"
            } else {
                "characters, whitespace excluded"
            };
            return Err(PolicyError::at(
                "",
                format!(
                    "{} is {size} {unit}; the limit is {limit}",
                    capitalize(kind.name())
                ),
            ));
        }
    }
    if kind.is_iam() {
        // IAM quotas: tab, line feed, carriage return and U+0020..U+00FF only.
        if let Some((line, c)) = text.lines().enumerate().find_map(|(i, l)| {
            l.chars()
                .find(|c| !matches!(*c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
                .map(|c| (i + 1, c))
        }) {
            return Err(PolicyError::at(
                "",
                format!("the policy contains the character `{c}` (line {line}); IAM policies may contain only tab, line feed, carriage return and characters U+0020 to U+00FF"),
            ));
        }
        if let Err(e) = serde_json::from_str::<NoDuplicates>(text) {
            if !e.is_syntax() && !e.is_eof() {
                return Err(PolicyError::at(
                    "",
                    format!(
                        "{} (line {} column {})",
                        strip_position(&e.to_string()),
                        e.line(),
                        e.column()
                    ),
                ));
            }
        }
    }
    let json: Json = serde_json::from_str(text).map_err(|e| {
        PolicyError::at(
            "",
            format!(
                "invalid JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ),
        )
    })?;
    parse_value(&json, kind)
}

/// "a" or "an" before a phrase.
fn article(phrase: &str) -> &'static str {
    if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Escapes one JSON-pointer segment (RFC 6901: `~` is `~0`, `/` is `~1`).
fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

/// Walks a JSON document only to refuse objects with a repeated key (which `serde_json`'s
/// `Value` would silently collapse to the last one).
struct NoDuplicates;

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = HashSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "the element `{k}` appears twice in the same object"
                )));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

/// Parses and validates an already-decoded JSON policy document.
pub fn parse_value(json: &Json, kind: PolicyKind) -> Result<Policy, PolicyError> {
    let obj = json
        .as_object()
        .ok_or_else(|| PolicyError::at("", "the policy must be a JSON object"))?;
    for key in obj.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) {
            return Err(PolicyError::at(
                format!("/{}", escape_pointer(key)),
                format!(
                    "unknown top-level element `{key}` (expected {})",
                    TOP_LEVEL.join(", ")
                ),
            ));
        }
    }
    let version = match obj.get("Version") {
        None => Version::V2008_10_17,
        Some(Json::String(v)) if v == "2012-10-17" => Version::V2012_10_17,
        Some(Json::String(v)) if v == "2008-10-17" => Version::V2008_10_17,
        Some(other) => {
            return Err(PolicyError::at(
                "/Version",
                format!("`Version` must be \"2012-10-17\" or \"2008-10-17\", not {other}"),
            ))
        }
    };
    let id = match obj.get("Id") {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::at("/Id", "`Id` must be a string")),
    };
    let raw_statements: Vec<(&Json, String)> = match obj.get("Statement") {
        None => return Err(PolicyError::at("", "missing required element `Statement`")),
        Some(Json::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, s)| (s, format!("/Statement/{i}")))
            .collect(),
        Some(s @ Json::Object(_)) => vec![(s, "/Statement".to_owned())],
        Some(_) => {
            return Err(PolicyError::at(
                "/Statement",
                "`Statement` must be an object or an array of objects",
            ))
        }
    };
    if raw_statements.is_empty() {
        return Err(PolicyError::at(
            "/Statement",
            "`Statement` is empty: a policy needs at least one statement",
        ));
    }
    let mut statements = Vec::with_capacity(raw_statements.len());
    let mut sids = HashSet::new();
    for (index, (raw, pointer)) in raw_statements.into_iter().enumerate() {
        let st = parse_statement(raw, index, &pointer, version, kind)?;
        if let Some(sid) = st.sid.as_deref().filter(|s| !s.is_empty()) {
            if kind != PolicyKind::Bucket && !sids.insert(sid.to_owned()) {
                return Err(PolicyError::at(
                    format!("{pointer}/Sid"),
                    format!("statement {index}: `Sid` `{sid}` is used twice; statement IDs must be unique"),
                ));
            }
        }
        statements.push(st);
    }
    Ok(Policy {
        version,
        id,
        statements,
    })
}

/// Error context for one statement.
struct At<'a> {
    index: usize,
    sid: Option<&'a str>,
    pointer: &'a str,
}

impl At<'_> {
    fn err(&self, element: &str, message: impl std::fmt::Display) -> PolicyError {
        let who = match self.sid {
            Some(s) if !s.is_empty() => format!("statement {} (Sid `{s}`)", self.index),
            _ => format!("statement {}", self.index),
        };
        let pointer = if element.is_empty() {
            self.pointer.to_owned()
        } else {
            format!("{}/{element}", self.pointer)
        };
        PolicyError::at(pointer, format!("{who}: {message}"))
    }
}

fn parse_statement(
    raw: &Json,
    index: usize,
    pointer: &str,
    version: Version,
    kind: PolicyKind,
) -> Result<Statement, PolicyError> {
    let bare = At {
        index,
        sid: None,
        pointer,
    };
    let obj = raw
        .as_object()
        .ok_or_else(|| bare.err("", "a statement must be a JSON object"))?;
    let sid = match obj.get("Sid") {
        None => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(_) => return Err(bare.err("Sid", "`Sid` must be a string")),
    };
    let at = At {
        index,
        sid: sid.as_deref(),
        pointer,
    };
    if kind.is_iam() {
        if let Some(sid) = sid.as_deref() {
            if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(at.err(
                    "Sid",
                    format!("`Sid` `{sid}` may contain only letters A-Z, a-z and digits 0-9 in an IAM policy"),
                ));
            }
        }
    }
    for key in obj.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            return Err(at.err(
                &escape_pointer(key),
                format!(
                    "unknown element `{key}` (expected one of {})",
                    STATEMENT_ELEMENTS.join(", ")
                ),
            ));
        }
    }
    let effect = match obj.get("Effect") {
        None => return Err(at.err("", "missing required element `Effect`")),
        Some(Json::String(e)) if e == "Allow" => Effect::Allow,
        Some(Json::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(at.err(
                "Effect",
                format!("`Effect` must be \"Allow\" or \"Deny\", not {other}"),
            ))
        }
    };

    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(at.err("", "has both `Principal` and `NotPrincipal`; use one"))
        }
        (Some(p), None) => Some(parse_principal(p, false, &at, "Principal")?),
        (None, Some(p)) => Some(parse_principal(p, true, &at, "NotPrincipal")?),
        (None, None) => None,
    };
    if kind.is_identity() {
        if let Some(p) = &principal {
            let name = if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            return Err(at.err(
                name,
                format!(
                    "{} {} must not have `{name}`: the principal is the identity it is attached to",
                    article(kind.name()),
                    kind.name()
                ),
            ));
        }
    }
    if matches!(
        kind,
        PolicyKind::Bucket | PolicyKind::Trust | PolicyKind::Resource
    ) && principal.is_none()
    {
        return Err(at.err(
            "",
            format!(
                "missing required element `Principal` ({} {} says who it applies to)",
                article(kind.name()),
                kind.name()
            ),
        ));
    }
    if kind == PolicyKind::Trust && principal.as_ref().is_some_and(|p| p.negated) {
        return Err(at.err("NotPrincipal", "a trust policy cannot use `NotPrincipal`"));
    }

    let action = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(_), Some(_)) => return Err(at.err("", "has both `Action` and `NotAction`; use one")),
        (None, None) => {
            return Err(at.err("", "missing required element `Action` (or `NotAction`)"))
        }
        (Some(a), None) => parse_actions(a, false, &at, "Action", kind)?,
        (None, Some(a)) => parse_actions(a, true, &at, "NotAction", kind)?,
    };

    let resource = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(at.err("", "has both `Resource` and `NotResource`; use one"))
        }
        (Some(r), None) => Some(parse_resources(r, false, &at, "Resource", version)?),
        (None, Some(r)) => Some(parse_resources(r, true, &at, "NotResource", version)?),
        (None, None) => None,
    };
    match kind {
        PolicyKind::Trust if resource.is_some() => {
            let name = if resource.as_ref().is_some_and(|r| r.negated) {
                "NotResource"
            } else {
                "Resource"
            };
            return Err(at.err(
                name,
                format!("a trust policy must not have `{name}`: the resource is the role itself"),
            ));
        }
        PolicyKind::Trust | PolicyKind::Any => {}
        _ if resource.is_none() => {
            return Err(at.err("", "missing required element `Resource` (or `NotResource`)"))
        }
        _ => {}
    }

    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &at, version)?,
    };

    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// A string or an array of strings (empty arrays refused).
fn string_list<'j>(
    v: &'j Json,
    at: &At<'_>,
    element: &str,
) -> Result<Vec<(&'j str, String)>, PolicyError> {
    match v {
        Json::String(s) => Ok(vec![(s.as_str(), element.to_owned())]),
        Json::Array(items) => {
            if items.is_empty() {
                return Err(at.err(element, format!("`{element}` is an empty list")));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Json::String(s) => Ok((s.as_str(), format!("{element}/{i}"))),
                    other => Err(at.err(
                        &format!("{element}/{i}"),
                        format!("`{element}` values must be strings, not {other}"),
                    )),
                })
                .collect()
        }
        other => Err(at.err(
            element,
            format!("`{element}` must be a string or an array of strings, not {other}"),
        )),
    }
}

fn parse_actions(
    v: &Json,
    negated: bool,
    at: &At<'_>,
    element: &str,
    kind: PolicyKind,
) -> Result<ActionSpec, PolicyError> {
    let mut patterns = Vec::new();
    for (s, ptr) in string_list(v, at, element)? {
        if s != "*" {
            let Some((service, name)) = s.split_once(':') else {
                return Err(at.err(
                    &ptr,
                    format!("`{element}` `{s}` has no service prefix (expected `service:action`, as in `s3:GetObject`)"),
                ));
            };
            let service_ok = !service.is_empty()
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?');
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "*?-_".contains(c));
            if !service_ok || !name_ok {
                return Err(at.err(
                    &ptr,
                    format!("`{element}` `{s}` is not a valid action (expected `service:action`)"),
                ));
            }
            let required = match kind {
                PolicyKind::Bucket => Some("s3"),
                PolicyKind::Trust => Some("sts"),
                _ => None,
            };
            if let Some(req) = required {
                if !service.eq_ignore_ascii_case(req) && service != "*" {
                    return Err(at.err(
                        &ptr,
                        format!(
                            "`{element}` `{s}` is not a `{req}:` action and cannot appear in {} {}",
                            article(kind.name()),
                            kind.name()
                        ),
                    ));
                }
            }
        }
        patterns.push(Pattern::wildcard(s));
    }
    Ok(ActionSpec { negated, patterns })
}

fn parse_resources(
    v: &Json,
    negated: bool,
    at: &At<'_>,
    element: &str,
    version: Version,
) -> Result<ResourceSpec, PolicyError> {
    let syntax = Syntax {
        wildcards: true,
        variables: version == Version::V2012_10_17,
    };
    let mut patterns = Vec::new();
    for (s, ptr) in string_list(v, at, element)? {
        if s != "*" {
            let ok = crate::types::split_arn(s).is_some_and(|p| {
                p[0] == "arn" && !p[1].is_empty() && !p[2].is_empty() && !p[5].is_empty()
            });
            if !ok {
                return Err(at.err(
                    &ptr,
                    format!("`{element}` `{s}` is not a valid ARN (expected `arn:partition:service:region:account:resource`, or `*`)"),
                ));
            }
        }
        let p = Pattern::parse(s, syntax).map_err(|e| at.err(&ptr, format!("`{element}`: {e}")))?;
        patterns.push(p);
    }
    Ok(ResourceSpec { negated, patterns })
}

fn parse_principal(
    v: &Json,
    negated: bool,
    at: &At<'_>,
    element: &str,
) -> Result<PrincipalSpec, PolicyError> {
    let mut entries = Vec::new();
    match v {
        Json::String(s) if s == "*" => entries.push(PrincipalEntry::Anyone),
        Json::Object(map) => {
            if map.is_empty() {
                return Err(at.err(element, format!("`{element}` is empty")));
            }
            for (ty, values) in map {
                let sub = format!("{element}/{}", escape_pointer(ty));
                for (s, ptr) in string_list(values, at, &sub)? {
                    let bad = |why: &str| {
                        at.err(&ptr, format!("invalid principal in policy: `{element}` {ty} `{s}` {why}"))
                    };
                    let entry = match ty.as_str() {
                        "AWS" => aws_principal(s).map_err(|why| bad(&why))?,
                        "Service" => {
                            if s.is_empty() || s.contains(['*', '?', ' ', ':']) {
                                return Err(bad("is not a service principal such as `s3.amazonaws.com`"));
                            }
                            PrincipalEntry::Service(s.to_owned())
                        }
                        "Federated" => {
                            if s.is_empty() || s.contains(['*', '?', ' ']) {
                                return Err(bad("is not an identity provider"));
                            }
                            PrincipalEntry::Federated(s.to_owned())
                        }
                        "CanonicalUser" => {
                            if s.len() != 64 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
                                return Err(bad("is not a canonical user ID (64 hexadecimal characters)"));
                            }
                            PrincipalEntry::CanonicalUser(s.to_ascii_lowercase())
                        }
                        _ => {
                            return Err(at.err(
                                &sub,
                                format!("unknown principal type `{ty}` (expected AWS, Service, Federated or CanonicalUser)"),
                            ))
                        }
                    };
                    entries.push(entry);
                }
            }
        }
        other => {
            return Err(at.err(
                element,
                format!("`{element}` must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::123456789012:root\"}}, not {other}"),
            ))
        }
    }
    Ok(PrincipalSpec { negated, entries })
}

/// Classifies one `"AWS"` principal value.
fn aws_principal(s: &str) -> Result<PrincipalEntry, String> {
    if s == "*" {
        return Ok(PrincipalEntry::Anyone);
    }
    if let Ok(id) = s.parse::<AccountId>() {
        return Ok(PrincipalEntry::Account(id));
    }
    if s.contains(['*', '?']) {
        return Err("uses a wildcard; only \"*\" alone may stand for everyone".to_owned());
    }
    // A unique ID (what AWS shows for a deleted user or role): valid, but names nobody.
    let unique_id = ["AIDA", "AROA"].iter().any(|p| s.starts_with(p))
        && s.len() >= 16
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if unique_id {
        return Ok(PrincipalEntry::OtherArn(s.to_owned()));
    }
    let parts = crate::types::split_arn(s)
        .filter(|p| p[0] == "arn" && !p[1].is_empty())
        .ok_or_else(|| "is neither a 12-digit account ID nor an ARN".to_owned())?;
    let account: AccountId = parts[4].parse().map_err(|_| {
        format!(
            "has account `{}`, which is not a 12-digit account ID",
            parts[4]
        )
    })?;
    let resource = parts[5];
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
    };
    match parts[2] {
        "iam" if resource == "root" => Ok(PrincipalEntry::Account(account)),
        "iam" if named("user/") => Ok(PrincipalEntry::User(s.to_owned())),
        "iam" if named("role/") => Ok(PrincipalEntry::Role(s.to_owned())),
        "sts" if named("assumed-role/") => {
            let rest = &resource["assumed-role/".len()..];
            match rest.split_once('/') {
                Some((role, session))
                    if !role.is_empty() && !session.is_empty() && !session.contains('/') =>
                {
                    Ok(PrincipalEntry::AssumedRole(s.to_owned()))
                }
                _ => Err("must be `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`".to_owned()),
            }
        }
        "sts" if named("federated-user/") => Ok(PrincipalEntry::FederatedUser(s.to_owned())),
        _ => Err("is not the ARN of an account root, user, role or session".to_owned()),
    }
}

fn parse_conditions(
    v: &Json,
    at: &At<'_>,
    version: Version,
) -> Result<Vec<Condition>, PolicyError> {
    let ops = v
        .as_object()
        .ok_or_else(|| at.err("Condition", "`Condition` must be an object of operators"))?;
    let mut out = Vec::new();
    for (op_name, block) in ops {
        let ptr = format!("Condition/{}", escape_pointer(op_name));
        let operator = Operator::parse(op_name)
            .ok_or_else(|| at.err(&ptr, format!("unknown condition operator `{op_name}`")))?;
        let keys = block.as_object().ok_or_else(|| {
            at.err(
                &ptr,
                format!("`{op_name}` must map condition keys to values"),
            )
        })?;
        if keys.is_empty() {
            return Err(at.err(&ptr, format!("`{op_name}` has no condition keys")));
        }
        for (key, values) in keys {
            let kptr = format!("{ptr}/{}", escape_pointer(key));
            if key.is_empty() || key.chars().any(char::is_whitespace) {
                return Err(at.err(&kptr, format!("`{key}` is not a valid condition key")));
            }
            let raw: Vec<String> = match values {
                Json::Array(items) => items
                    .iter()
                    .map(|i| {
                        scalar(i).ok_or_else(|| {
                            at.err(
                                &kptr,
                                format!("values of `{key}` must be strings, numbers or booleans"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                other => vec![scalar(other).ok_or_else(|| {
                    at.err(
                        &kptr,
                        format!("values of `{key}` must be strings, numbers or booleans"),
                    )
                })?],
            };
            let cond = Condition::new(operator.clone(), key, &raw, version == Version::V2012_10_17)
                .map_err(|e| at.err(&kptr, format!("condition `{op_name}` on `{key}`: {e}")))?;
            out.push(cond);
        }
    }
    Ok(out)
}

fn scalar(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str, kind: PolicyKind) -> PolicyError {
        parse(text, kind).unwrap_err()
    }

    #[test]
    fn statement_object_or_array() {
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        assert_eq!(
            parse(one, PolicyKind::UserInline).unwrap().statements.len(),
            1
        );
        let two = r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]},{"Effect":"Deny","NotAction":"s3:*","NotResource":"arn:aws:s3:::b/*"}]}"#;
        let p = parse(two, PolicyKind::Managed).unwrap();
        assert_eq!(p.version, Version::V2008_10_17);
        assert!(p.statements[1].action.negated);
    }

    #[test]
    fn messages_name_statement_and_element() {
        let e = err(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Sid":"B","Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#,
            PolicyKind::UserInline,
        );
        assert_eq!(e.pointer, "/Statement/1/Action");
        assert!(e.message.contains("statement 1 (Sid `B`)"), "{}", e.message);
        assert!(e.message.contains("no service prefix"), "{}", e.message);
    }

    #[test]
    fn refusals() {
        use PolicyKind::*;
        let cases: &[(&str, PolicyKind, &str)] = &[
            ("{", Any, "invalid JSON at line 1"),
            (
                r#"{"Version":"2012-10-17","Statement":[],"Foo":1}"#,
                Any,
                "unknown top-level element `Foo`",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                Any,
                "`Statement` is empty",
            ),
            (
                r#"{"Version":"2012-10-17"}"#,
                Any,
                "missing required element `Statement`",
            ),
            (
                r#"{"Version":"2013-01-01","Statement":[]}"#,
                Any,
                "`Version` must be",
            ),
            (
                r#"{"Statement":{"Action":"s3:*","Resource":"*"}}"#,
                Any,
                "missing required element `Effect`",
            ),
            (
                r#"{"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}"#,
                Any,
                "`Effect` must be",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}}"#,
                Any,
                "both `Action` and `NotAction`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                Any,
                "missing required element `Action`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Resources":"*"}}"#,
                Any,
                "unknown element `Resources`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::bucket"}}"#,
                Any,
                "not a valid ARN",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqual":{"a":"b"}}}}"#,
                Any,
                "unknown condition operator `StringEqual`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}"#,
                Any,
                "not a valid date",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
                UserInline,
                "must not have `Principal`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
                Bucket,
                "missing required element `Principal`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*"}}"#,
                Bucket,
                "missing required element `Resource`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"iam:*","Resource":"*"}}"#,
                Bucket,
                "not a `s3:` action",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
                Trust,
                "must not have `Resource`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::AccountB:user/x"},"Action":"s3:*","Resource":"*"}}"#,
                Bucket,
                "invalid principal",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"s3:*","Resource":"*"}}"#,
                Bucket,
                "wildcard",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"Users":"x"},"Action":"s3:*","Resource":"*"}}"#,
                Bucket,
                "unknown principal type `Users`",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"CanonicalUser":"abc"},"Action":"s3:*","Resource":"*"}}"#,
                Bucket,
                "canonical user ID",
            ),
            (
                r#"{"Statement":[{"Sid":"X","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"X","Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                Managed,
                "used twice",
            ),
        ];
        for (text, kind, want) in cases {
            let e = err(text, *kind);
            assert!(
                e.message.contains(want),
                "{text}: got `{}`, want `{want}`",
                e.message
            );
        }
    }

    #[test]
    fn pointers_escape_keys_and_messages_use_the_right_article() {
        let e = err(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericEquals":{"aws:PrincipalTag/Dept~x":"ten"}}}}"#,
            PolicyKind::Any,
        );
        assert_eq!(
            e.pointer,
            "/Statement/Condition/NumericEquals/aws:PrincipalTag~1Dept~0x"
        );
        let e = err(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
            PolicyKind::UserInline,
        );
        assert!(
            e.message.contains("an inline user policy must not have"),
            "{}",
            e.message
        );
    }

    #[test]
    fn size_limits() {
        let stmt = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/some/long/prefix/*"}"#;
        let doc = |n: usize| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                vec![stmt; n].join(",")
            )
        };
        // 94 characters a statement: 21 make 2,033 characters, 22 make 2,128.
        assert!(parse(&doc(21), PolicyKind::UserInline).is_ok());
        let e = err(&doc(22), PolicyKind::UserInline);
        assert!(e.message.contains("limit is 2048"), "{}", e.message);
        assert!(parse(&doc(22), PolicyKind::RoleInline).is_ok());
        // Whitespace does not count for IAM policies.
        let spaced = doc(21).replace(',', ",          ");
        assert!(parse(&spaced, PolicyKind::UserInline).is_ok());
        // Bucket policies count bytes, whitespace included, up to 20 KiB.
        let bstmt = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/p/*"}"#;
        let bdoc = |n: usize| format!(r#"{{"Statement":[{}]}}"#, vec![bstmt; n].join(","));
        assert!(parse(&bdoc(200), PolicyKind::Bucket).is_ok());
        let e = err(&bdoc(250), PolicyKind::Bucket);
        assert!(e.message.contains("limit is 20480"), "{}", e.message);
    }

    #[test]
    fn principals_are_classified() {
        let p = parse(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/path/r","arn:aws:sts::111122223333:assumed-role/r/s","arn:aws:iam::111122223333:user/u"],"Service":"s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}}"#,
            PolicyKind::Bucket,
        )
        .unwrap();
        let entries = &p.statements[0].principal.as_ref().unwrap().entries;
        let acct: AccountId = "111122223333".parse().unwrap();
        assert_eq!(entries[0], PrincipalEntry::Account(acct));
        assert_eq!(entries[1], PrincipalEntry::Account(acct));
        assert!(matches!(entries[2], PrincipalEntry::Role(_)));
        assert!(matches!(entries[3], PrincipalEntry::AssumedRole(_)));
        assert!(matches!(entries[4], PrincipalEntry::User(_)));
        assert_eq!(
            entries[5],
            PrincipalEntry::Service("s3.amazonaws.com".into())
        );
    }
}
