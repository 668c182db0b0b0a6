//! The request side of a decision: who is calling ([`Principal`]), and the condition keys the
//! request carries ([`Context`]).
//!
//! Keys are case-insensitive, so they are stored lowercase. Values are multi-valued and typed;
//! operators coerce between types as IAM does (a numeric operator reads a string key as a
//! number, and so on). The global keys that follow from the principal (`aws:PrincipalArn`,
//! `aws:userid`, `aws:PrincipalTag/...`) are filled in by [`Context::for_principal`].

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::OnceLock;

use super::pattern::Vars;
use crate::types::AccountId;

/// What kind of caller made the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An account's root user (`arn:aws:iam::ID:root`).
    Root,
    /// An IAM user.
    User,
    /// A session of an assumed role.
    AssumedRole,
    /// A federated user session (GetFederationToken).
    FederatedUser,
    /// An AWS service principal such as `s3.amazonaws.com`.
    Service(String),
    /// An unsigned request.
    Anonymous,
}

/// The caller of a request, as the policy language sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// `None` only for anonymous callers and service principals.
    pub account: Option<AccountId>,
    /// The identity ARN: the session ARN (`arn:aws:sts::ID:assumed-role/ROLE/SESSION`) for a
    /// role session, the user ARN, or `arn:aws:iam::ID:root`. Empty for anonymous callers.
    pub arn: String,
    /// For role sessions, the role's ARN including its path (`aws:PrincipalArn`).
    pub role_arn: Option<String>,
    /// `aws:userid`: the account ID for root, `AIDA...` for users, `AROA...:session` for sessions.
    pub user_id: String,
    /// The account's canonical user ID (64 hex characters), matched by `CanonicalUser`.
    pub canonical_id: Option<String>,
    /// Principal tags (`aws:PrincipalTag/KEY`).
    pub tags: Vec<(String, String)>,
}

impl Principal {
    /// The anonymous caller of an unsigned request.
    pub fn anonymous() -> Principal {
        Principal {
            kind: PrincipalKind::Anonymous,
            account: None,
            arn: String::new(),
            role_arn: None,
            user_id: "anonymous".to_owned(),
            canonical_id: None,
            tags: Vec::new(),
        }
    }

    /// An account's root user.
    pub fn root(account: AccountId) -> Principal {
        Principal {
            kind: PrincipalKind::Root,
            account: Some(account),
            arn: account.root_arn(),
            role_arn: None,
            user_id: account.to_string(),
            canonical_id: None,
            tags: Vec::new(),
        }
    }

    /// An IAM user; `path` is `/` or `/a/b/`.
    pub fn user(account: AccountId, path: &str, name: &str, user_id: &str) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            account: Some(account),
            arn: format!("arn:aws:iam::{account}:user{}{name}", norm_path(path)),
            role_arn: None,
            user_id: user_id.to_owned(),
            canonical_id: None,
            tags: Vec::new(),
        }
    }

    /// A session of role `name` (with `path`), whose role ID is `role_id` (`AROA...`).
    pub fn role_session(
        account: AccountId,
        path: &str,
        name: &str,
        role_id: &str,
        session: &str,
    ) -> Principal {
        Principal {
            kind: PrincipalKind::AssumedRole,
            account: Some(account),
            arn: format!("arn:aws:sts::{account}:assumed-role/{name}/{session}"),
            role_arn: Some(format!(
                "arn:aws:iam::{account}:role{}{name}",
                norm_path(path)
            )),
            user_id: format!("{role_id}:{session}"),
            canonical_id: None,
            tags: Vec::new(),
        }
    }

    /// A service principal such as `s3.amazonaws.com`.
    pub fn service(name: &str) -> Principal {
        Principal {
            kind: PrincipalKind::Service(name.to_owned()),
            account: None,
            arn: String::new(),
            role_arn: None,
            user_id: name.to_owned(),
            canonical_id: None,
            tags: Vec::new(),
        }
    }

    /// Sets the account's canonical user ID.
    pub fn with_canonical_id(mut self, id: &str) -> Principal {
        self.canonical_id = Some(id.to_owned());
        self
    }

    /// Adds principal tags.
    pub fn with_tags(mut self, tags: &[(&str, &str)]) -> Principal {
        self.tags
            .extend(tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }

    /// `aws:PrincipalArn`: the role ARN for role sessions, the identity ARN otherwise.
    pub fn principal_arn(&self) -> &str {
        self.role_arn.as_deref().unwrap_or(&self.arn)
    }

    /// `aws:PrincipalType` as AWS reports it.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Service(_) => "Service",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }

    /// `aws:username`, for IAM users only.
    pub fn username(&self) -> Option<&str> {
        match self.kind {
            PrincipalKind::User => self.arn.rsplit('/').next(),
            _ => None,
        }
    }

    /// Builds a principal from its identity ARN, as `ferry explain` receives it (or `anonymous`,
    /// or a service principal name such as `s3.amazonaws.com`). Session ARNs
    /// carry no role path or role ID; both default (`/`, `AROA` + role name).
    pub fn from_arn(arn: &str) -> Result<Principal, String> {
        if arn == "*" || arn.eq_ignore_ascii_case("anonymous") {
            return Ok(Principal::anonymous());
        }
        if !arn.starts_with("arn:") && arn.ends_with(".amazonaws.com") {
            return Ok(Principal::service(arn));
        }
        let parts = crate::types::split_arn(arn)
            .ok_or_else(|| format!("`{arn}` is not an ARN (or `anonymous`)"))?;
        let account = || -> Result<AccountId, String> {
            parts[4]
                .parse()
                .map_err(|e: crate::types::IdError| e.to_string())
        };
        match (parts[2], parts[5]) {
            ("iam", "root") => Ok(Principal::root(account()?)),
            ("iam", r) if r.starts_with("user/") => {
                let (path, name) = split_path(&r["user".len()..]);
                let id = format!("AIDA{}", name.to_ascii_uppercase());
                Ok(Principal::user(account()?, path, name, &id))
            }
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut it = r["assumed-role/".len()..].splitn(2, '/');
                let (role, session) = match (it.next(), it.next()) {
                    (Some(r), Some(s)) if !r.is_empty() && !s.is_empty() => (r, s),
                    _ => return Err(format!("`{arn}`: expected assumed-role/ROLE/SESSION")),
                };
                let id = format!("AROA{}", role.to_ascii_uppercase());
                Ok(Principal::role_session(account()?, "/", role, &id, session))
            }
            ("sts", r) if r.starts_with("federated-user/") => {
                let acct = account()?;
                Ok(Principal {
                    kind: PrincipalKind::FederatedUser,
                    account: Some(acct),
                    arn: arn.to_owned(),
                    role_arn: None,
                    user_id: format!("{acct}:{}", &r["federated-user/".len()..]),
                    canonical_id: None,
                    tags: Vec::new(),
                })
            }
            _ => Err(format!(
                "`{arn}` is not a principal ARN (root, user, assumed-role or federated-user)"
            )),
        }
    }
}

fn norm_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

/// Splits `/path/to/name` into (`/path/to/`, `name`).
fn split_path(s: &str) -> (&str, &str) {
    match s.rfind('/') {
        Some(i) => (&s[..=i], &s[i + 1..]),
        None => ("/", s),
    }
}

/// A condition-key value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Num(f64),
    /// Seconds since the Unix epoch.
    Date(i64),
    Ip(IpAddr),
    Bytes(Vec<u8>),
}

impl Value {
    /// The value as text, as string operators and policy variables see it.
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Num(n) => Cow::Owned(n.to_string()),
            Value::Date(d) => Cow::Owned(date_text(*d)),
            Value::Ip(ip) => Cow::Owned(ip.to_string()),
            Value::Bytes(b) => {
                use base64::Engine;
                Cow::Owned(base64::engine::general_purpose::STANDARD.encode(b))
            }
        }
    }
}

/// `2026-11-22T06:00:00Z`. Requests within a second share a time (`aws:CurrentTime`), so
/// each thread keeps the last one formatted.
fn date_text(secs: i64) -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((s, text)) if *s == secs => text.clone(),
            _ => {
                let text = chrono::DateTime::from_timestamp(secs, 0)
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_else(|| secs.to_string());
                *last = Some((secs, text.clone()));
                text
            }
        }
    })
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<IpAddr> for Value {
    fn from(ip: IpAddr) -> Value {
        Value::Ip(ip)
    }
}

/// Keys the emulator and `ferry explain` set on most requests, lowercase. Setting one of them
/// (in any case) stores this static text instead of a lowercased copy.
const KNOWN_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:currenttime",
    "aws:epochtime",
    "aws:securetransport",
    "aws:sourceip",
    "aws:multifactorauthpresent",
    "aws:tagkeys",
    "s3:resourceaccount",
    "s3:prefix",
    "s3:delimiter",
    "s3:max-keys",
    "s3:x-amz-acl",
    "s3:x-amz-grant-read",
    "s3:x-amz-grant-write",
    "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write-acp",
    "s3:x-amz-grant-full-control",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-storage-class",
    "s3:x-amz-copy-source",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-content-sha256",
    "s3:x-amz-object-ownership",
    "s3:requestobjecttagkeys",
    "sts:externalid",
    "sts:rolesessionname",
    "sts:sourceidentity",
    "iam:permissionsboundary",
    "iam:policyarn",
];

/// A key as stored: lowercase, static for the known keys.
fn key_of(key: &str) -> Cow<'static, str> {
    let last = key.as_bytes().last().map(u8::to_ascii_lowercase);
    match KNOWN_KEYS.iter().find(|k| {
        // Length and last byte first: many known keys share a long prefix.
        k.len() == key.len() && k.as_bytes().last() == last.as_ref() && k.eq_ignore_ascii_case(key)
    }) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(key.to_ascii_lowercase()),
    }
}

/// A key's values: one inline (the usual case), or a list.
#[derive(Clone, Debug)]
enum Values {
    One(Value),
    Many(Vec<Value>),
}

impl Values {
    fn from_vec(mut values: Vec<Value>) -> Values {
        match values.pop() {
            Some(v) if values.is_empty() => Values::One(v),
            Some(v) => {
                values.push(v);
                Values::Many(values)
            }
            None => Values::Many(values),
        }
    }

    fn as_slice(&self) -> &[Value] {
        match self {
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(vs) => vs,
        }
    }

    fn push(&mut self, value: Value) {
        match self {
            Values::Many(vs) if vs.is_empty() => *self = Values::One(value),
            Values::Many(vs) => vs.push(value),
            Values::One(_) => {
                let Values::One(first) = std::mem::replace(self, Values::Many(Vec::new())) else {
                    return;
                };
                *self = Values::Many(vec![first, value]);
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    key: Cow<'static, str>,
    values: Values,
    /// Whether policy variables (`${key}`) see this key, through its first value: a key set
    /// with exactly one value, or grown with [`Context::add`].
    var: bool,
    /// The first value's text for policy variables, built on first use (strings and booleans
    /// need none).
    text: OnceLock<String>,
}

impl Entry {
    fn new(key: Cow<'static, str>, values: Values, var: bool) -> Entry {
        Entry {
            key,
            values,
            var,
            text: OnceLock::new(),
        }
    }
}

/// The condition keys of one request: lowercase key → values.
///
/// A request carries a dozen keys or so: they are kept in a list in the order set (no hashing),
/// the usual keys under static names, and the text form that policy variables read is made
/// only when a policy reads it.
#[derive(Clone, Debug, Default)]
pub struct Context {
    entries: Vec<Entry>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// The global keys that follow from the principal: `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid`, `aws:username`,
    /// `aws:PrincipalTag/*`. Anonymous callers get none of them.
    pub fn for_principal(p: &Principal) -> Context {
        let mut c = Context {
            entries: Vec::with_capacity(16 + p.tags.len()),
        };
        if p.kind == PrincipalKind::Anonymous {
            // Present for every request, anonymous ones included.
            c.set("aws:PrincipalType", "Anonymous");
            c.set("aws:userid", "anonymous");
            return c;
        }
        c.set("aws:PrincipalArn", p.principal_arn());
        if let Some(a) = p.account {
            c.set("aws:PrincipalAccount", a.as_str());
        }
        c.set("aws:PrincipalType", p.principal_type());
        c.set("aws:userid", p.user_id.as_str());
        if let Some(u) = p.username() {
            c.set("aws:username", u);
        }
        for (k, v) in &p.tags {
            c.set(&format!("aws:PrincipalTag/{k}"), v.as_str());
        }
        c
    }

    fn position(&self, lowercase_key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.key == lowercase_key)
    }

    fn put(&mut self, key: &str, values: Values, var: bool) {
        let key = key_of(key);
        match self.position(&key) {
            Some(i) => self.entries[i] = Entry::new(key, values, var),
            None => self.entries.push(Entry::new(key, values, var)),
        }
    }

    /// Sets a single-valued key (replacing any earlier values).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> &mut Context {
        self.put(key, Values::One(value.into()), true);
        self
    }

    /// Sets a multi-valued key (replacing any earlier values).
    pub fn set_all(&mut self, key: &str, values: Vec<Value>) -> &mut Context {
        let var = values.len() == 1;
        self.put(key, Values::from_vec(values), var);
        self
    }

    /// Appends one value to a key.
    pub fn add(&mut self, key: &str, value: impl Into<Value>) -> &mut Context {
        let key = key_of(key);
        match self.position(&key) {
            Some(i) => {
                let e = &mut self.entries[i];
                if e.values.as_slice().is_empty() {
                    e.text = OnceLock::new();
                }
                e.values.push(value.into());
                // A policy variable over a multi-valued key reads its first value.
                e.var = true;
            }
            None => self
                .entries
                .push(Entry::new(key, Values::One(value.into()), true)),
        }
        self
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        if let Some(i) = self.position(&key.to_ascii_lowercase()) {
            self.entries.remove(i);
        }
    }

    /// The values of a key (`key` must be lowercase), if present.
    pub fn get(&self, lowercase_key: &str) -> Option<&[Value]> {
        self.entries
            .iter()
            .find(|e| e.key == lowercase_key)
            .map(|e| e.values.as_slice())
    }

    /// Every key and its values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Value])> {
        self.entries
            .iter()
            .map(|e| (e.key.as_ref(), e.values.as_slice()))
    }
}

impl Vars for Context {
    fn var(&self, key: &str) -> Option<&str> {
        let e = self.entries.iter().find(|e| e.key == key)?;
        if !e.var {
            return None;
        }
        match e.values.as_slice().first()? {
            Value::Str(s) => Some(s),
            Value::Bool(b) => Some(if *b { "true" } else { "false" }),
            v => Some(e.text.get_or_init(|| v.as_text().into_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct() -> AccountId {
        "111122223333".parse().unwrap()
    }

    #[test]
    fn sessions_carry_the_role_arn() {
        let p = Principal::role_session(acct(), "/team/", "reader", "AROAXYZ", "s1");
        assert_eq!(p.arn, "arn:aws:sts::111122223333:assumed-role/reader/s1");
        assert_eq!(
            p.principal_arn(),
            "arn:aws:iam::111122223333:role/team/reader"
        );
        assert_eq!(p.user_id, "AROAXYZ:s1");
        let c = Context::for_principal(&p);
        assert_eq!(
            c.var("aws:principalarn"),
            Some("arn:aws:iam::111122223333:role/team/reader")
        );
        assert_eq!(c.var("aws:username"), None);
        assert_eq!(c.var("aws:principaltype"), Some("AssumedRole"));
    }

    #[test]
    fn principals_from_arns() {
        let u = Principal::from_arn("arn:aws:iam::111122223333:user/dev/bob").unwrap();
        assert_eq!(u.kind, PrincipalKind::User);
        assert_eq!(u.username(), Some("bob"));
        assert_eq!(u.arn, "arn:aws:iam::111122223333:user/dev/bob");
        let r = Principal::from_arn("arn:aws:iam::111122223333:root").unwrap();
        assert_eq!(r.kind, PrincipalKind::Root);
        assert_eq!(r.user_id, "111122223333");
        assert_eq!(
            Principal::from_arn("anonymous").unwrap().kind,
            PrincipalKind::Anonymous
        );
        for bad in [
            "arn:aws:iam::1111:user/x",
            "arn:aws:s3:::bucket",
            "arn:aws:sts::111122223333:assumed-role/x",
            "nonsense",
        ] {
            assert!(Principal::from_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_variables_read_single_values_and_added_ones() {
        let mut c = Context::new();
        c.set("aws:CurrentTime", Value::Date(0))
            .set("aws:EpochTime", Value::Num(1.5))
            .set("aws:SecureTransport", true)
            .set("aws:SourceIp", Value::Ip("192.0.2.1".parse().unwrap()))
            .set("Custom:Key", "v");
        assert_eq!(c.var("aws:currenttime"), Some("1970-01-01T00:00:00Z"));
        assert_eq!(c.var("aws:epochtime"), Some("1.5"));
        assert_eq!(c.var("aws:securetransport"), Some("true"));
        assert_eq!(c.var("aws:sourceip"), Some("192.0.2.1"));
        assert_eq!(c.var("custom:key"), Some("v"));
        assert_eq!(c.var("Custom:Key"), None);
        // Replacing a value replaces its text.
        c.set("aws:EpochTime", Value::Num(2.0));
        assert_eq!(c.var("aws:epochtime"), Some("2"));
        // Several values at once: no variable. Grown one by one: the first value.
        c.set_all("aws:TagKeys", vec!["a".into(), "b".into()]);
        assert_eq!(c.var("aws:tagkeys"), None);
        c.add("aws:TagKeys", "c");
        assert_eq!(c.var("aws:tagkeys"), Some("a"));
        assert_eq!(c.get("aws:tagkeys").map(<[Value]>::len), Some(3));
        c.set_all("x:empty", Vec::new());
        assert_eq!(c.get("x:empty"), Some(&[][..]));
        assert_eq!(c.var("x:empty"), None);
        c.add("x:empty", Value::Num(3.0));
        assert_eq!(c.var("x:empty"), Some("3"));
        c.remove("AWS:TAGKEYS");
        assert_eq!((c.get("aws:tagkeys"), c.var("aws:tagkeys")), (None, None));
        let mut keys: Vec<&str> = c.iter().map(|(k, _)| k).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "aws:currenttime",
                "aws:epochtime",
                "aws:securetransport",
                "aws:sourceip",
                "custom:key",
                "x:empty"
            ]
        );
    }

    #[test]
    fn keys_are_case_insensitive() {
        let mut c = Context::new();
        c.set("S3:Prefix", "home/");
        assert_eq!(c.get("s3:prefix"), Some(&[Value::from("home/")][..]));
        c.add("aws:TagKeys", "a").add("aws:tagkeys", "b");
        assert_eq!(c.get("aws:tagkeys").map(<[Value]>::len), Some(2));
    }
}
