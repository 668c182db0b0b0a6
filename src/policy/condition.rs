//! The `Condition` element: operators, typed policy values, and their evaluation against a
//! request's [`Context`].
//!
//! Semantics follow the IAM condition-operator reference:
//! - values listed for one key are ORed; keys within an operator and operators within a
//!   statement are ANDed (the caller ANDs the [`Condition`]s of a statement);
//! - a key missing from the request makes a positive operator false and a negated one
//!   (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) true; `...IfExists` makes it true;
//! - `ForAnyValue:` needs one request value to match (false on a missing key),
//!   `ForAllValues:` needs every request value to match (true on a missing or empty key);
//! - `Null` tests presence and cannot take `IfExists`.
//!
//! Policy values are parsed and typed when the policy is parsed; a value of the wrong type
//! (a date that is not a date) is a parse error, so evaluation cannot fail. Request values
//! of the wrong type simply do not match.

use std::net::IpAddr;

use base64::Engine;

use super::context::{Context, Value};
use super::pattern::{Pattern, Syntax, Vars};

/// The operator without its `ForAnyValue:`/`ForAllValues:` prefix or `IfExists` suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

const OPS: &[(&str, Op)] = &[
    ("StringEquals", Op::StringEquals),
    ("StringNotEquals", Op::StringNotEquals),
    ("StringEqualsIgnoreCase", Op::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", Op::StringNotEqualsIgnoreCase),
    ("StringLike", Op::StringLike),
    ("StringNotLike", Op::StringNotLike),
    ("NumericEquals", Op::NumericEquals),
    ("NumericNotEquals", Op::NumericNotEquals),
    ("NumericLessThan", Op::NumericLessThan),
    ("NumericLessThanEquals", Op::NumericLessThanEquals),
    ("NumericGreaterThan", Op::NumericGreaterThan),
    ("NumericGreaterThanEquals", Op::NumericGreaterThanEquals),
    ("DateEquals", Op::DateEquals),
    ("DateNotEquals", Op::DateNotEquals),
    ("DateLessThan", Op::DateLessThan),
    ("DateLessThanEquals", Op::DateLessThanEquals),
    ("DateGreaterThan", Op::DateGreaterThan),
    ("DateGreaterThanEquals", Op::DateGreaterThanEquals),
    ("Bool", Op::Bool),
    ("BinaryEquals", Op::BinaryEquals),
    ("IpAddress", Op::IpAddress),
    ("NotIpAddress", Op::NotIpAddress),
    ("ArnEquals", Op::ArnEquals),
    ("ArnLike", Op::ArnLike),
    ("ArnNotEquals", Op::ArnNotEquals),
    ("ArnNotLike", Op::ArnNotLike),
    ("Null", Op::Null),
];

impl Op {
    /// Negated operators match when the request value matches none of the policy values,
    /// and when the key is missing.
    pub fn negated(self) -> bool {
        matches!(
            self,
            Op::StringNotEquals
                | Op::StringNotEqualsIgnoreCase
                | Op::StringNotLike
                | Op::NumericNotEquals
                | Op::DateNotEquals
                | Op::NotIpAddress
                | Op::ArnNotEquals
                | Op::ArnNotLike
        )
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    ForAnyValue,
    ForAllValues,
}

/// A full operator as written: `[ForAnyValue:|ForAllValues:]Op[IfExists]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    pub op: Op,
    pub set: Option<SetOp>,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name (case-sensitive, as IAM requires).
    pub fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOp::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetOp::ForAllValues), r)
        } else {
            (None, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let op = OPS.iter().find(|(n, _)| *n == base).map(|(_, op)| *op)?;
        if op == Op::Null && if_exists {
            return None;
        }
        Some(Operator {
            name: name.to_owned(),
            op,
            set,
            if_exists,
        })
    }
}

/// An IPv4 or IPv6 network (`203.0.113.0/24`, `2001:db8::/32`; a bare address is /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The policy values of one condition, typed by operator family.
#[derive(Clone, Debug)]
pub enum Values {
    /// String operators: patterns (wildcards only for `*Like`, variables per policy version).
    Str(Vec<Pattern>),
    Num(Vec<f64>),
    /// Seconds since the Unix epoch.
    Date(Vec<i64>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    /// ARN operators: the whole value as a pattern; split per component when matching.
    Arn(Vec<Pattern>),
    /// `Null`: `true` means "the key must be absent".
    Null(Vec<bool>),
}

/// One operator applied to one key with its values.
#[derive(Clone, Debug)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written in the policy.
    pub key: String,
    /// The key lowercased, for lookups.
    pub key_lc: String,
    pub values: Values,
}

/// Parses a date condition value: ISO 8601 (date, date-time with or without offset) or epoch seconds.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp());
        }
    }
    // W3C profile of ISO 8601 (www.w3.org/TR/NOTE-datetime): hh:mm with a zone designator.
    for fmt in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp());
        }
    }
    if let Some(naive) = s.strip_suffix('Z') {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M") {
            return Some(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    // YYYY-MM and YYYY: the first instant of the month or year.
    let ym = |y: &str, m: &str| -> Option<i64> {
        let y: i32 = y.parse().ok()?;
        let m: u32 = m.parse().ok()?;
        chrono::NaiveDate::from_ymd_opt(y, m, 1)?
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
    };
    match s.split_once('-') {
        Some((y, m)) if y.len() == 4 && m.len() == 2 => ym(y, m),
        None if s.len() == 4 && s.chars().all(|c| c.is_ascii_digit()) => ym(s, "01"),
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

impl Condition {
    /// Builds a condition from its operator, key and raw values (already stringified).
    /// `variables` says whether `${...}` is a policy variable (policy version 2012-10-17).
    pub fn new(
        operator: Operator,
        key: &str,
        raw: &[String],
        variables: bool,
    ) -> Result<Condition, String> {
        let bad =
            |what: &str, v: &str| format!("`{v}` is not a valid {what} for `{}`", operator.name);
        let pattern = |v: &String, wildcards: bool| {
            Pattern::parse(
                v,
                Syntax {
                    wildcards,
                    variables,
                },
            )
            .map_err(|e| e.0)
        };
        let values = match operator.op {
            Op::StringEquals
            | Op::StringNotEquals
            | Op::StringEqualsIgnoreCase
            | Op::StringNotEqualsIgnoreCase => Values::Str(
                raw.iter()
                    .map(|v| pattern(v, false))
                    .collect::<Result<_, _>>()?,
            ),
            Op::StringLike | Op::StringNotLike => Values::Str(
                raw.iter()
                    .map(|v| pattern(v, true))
                    .collect::<Result<_, _>>()?,
            ),
            Op::ArnEquals | Op::ArnLike | Op::ArnNotEquals | Op::ArnNotLike => Values::Arn(
                raw.iter()
                    .map(|v| pattern(v, true))
                    .collect::<Result<_, _>>()?,
            ),
            Op::NumericEquals
            | Op::NumericNotEquals
            | Op::NumericLessThan
            | Op::NumericLessThanEquals
            | Op::NumericGreaterThan
            | Op::NumericGreaterThanEquals => Values::Num(
                raw.iter()
                    .map(|v| {
                        v.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|n| n.is_finite())
                            .ok_or_else(|| bad("number", v))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Op::DateEquals
            | Op::DateNotEquals
            | Op::DateLessThan
            | Op::DateLessThanEquals
            | Op::DateGreaterThan
            | Op::DateGreaterThanEquals => Values::Date(
                raw.iter()
                    .map(|v| parse_date(v).ok_or_else(|| bad("date", v)))
                    .collect::<Result<_, _>>()?,
            ),
            Op::Bool => Values::Bool(
                raw.iter()
                    .map(|v| parse_bool(v).ok_or_else(|| bad("boolean", v)))
                    .collect::<Result<_, _>>()?,
            ),
            Op::Null => Values::Null(
                raw.iter()
                    .map(|v| parse_bool(v).ok_or_else(|| bad("boolean", v)))
                    .collect::<Result<_, _>>()?,
            ),
            Op::BinaryEquals => Values::Binary(
                raw.iter()
                    .map(|v| {
                        base64::engine::general_purpose::STANDARD
                            .decode(v.trim())
                            .map_err(|_| bad("base64 value", v))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Op::IpAddress | Op::NotIpAddress => Values::Ip(
                raw.iter()
                    .map(|v| Cidr::parse(v).ok_or_else(|| bad("IP address or CIDR block", v)))
                    .collect::<Result<_, _>>()?,
            ),
        };
        if raw.is_empty() {
            return Err(format!("`{}` on `{key}` has no values", operator.name));
        }
        Ok(Condition {
            operator,
            key: key.to_owned(),
            key_lc: key.to_ascii_lowercase(),
            values,
        })
    }

    /// Whether the condition holds for the request.
    pub fn eval(&self, ctx: &Context) -> bool {
        let present = ctx.get(&self.key_lc).filter(|v| !v.is_empty());
        if let Values::Null(wants) = &self.values {
            // Null: "true" holds when the key is absent, "false" when it is present.
            return wants
                .iter()
                .any(|&want_absent| want_absent != present.is_some());
        }
        let negated = self.operator.op.negated();
        // `ForAllValues` treats values that resolve to a null data set (empty strings) as no
        // values at all.
        let present = match (self.operator.set, present) {
            (Some(SetOp::ForAllValues), Some(vs))
                if vs
                    .iter()
                    .all(|v| matches!(v, Value::Str(s) if s.is_empty())) =>
            {
                None
            }
            (_, p) => p,
        };
        let Some(request) = present else {
            return match self.operator.set {
                _ if self.operator.if_exists => true,
                Some(SetOp::ForAllValues) => true,
                Some(SetOp::ForAnyValue) => false,
                None => negated,
            };
        };
        // `hit(v)`: the request value matches one of the policy values under the positive
        // form of the operator.
        let hit = |v: &Value| self.any_policy_value_matches(v, ctx);
        match (self.operator.set, negated) {
            (None, false) => request.iter().any(hit),
            (None, true) => !request.iter().any(hit),
            (Some(SetOp::ForAnyValue), false) => request.iter().any(hit),
            (Some(SetOp::ForAnyValue), true) => request.iter().any(|v| !hit(v)),
            (Some(SetOp::ForAllValues), false) => request.iter().all(hit),
            (Some(SetOp::ForAllValues), true) => request.iter().all(|v| !hit(v)),
        }
    }

    fn any_policy_value_matches(&self, v: &Value, ctx: &Context) -> bool {
        let op = self.operator.op;
        match &self.values {
            Values::Str(pats) => {
                let text = v.as_text();
                let fold = matches!(
                    op,
                    Op::StringEqualsIgnoreCase | Op::StringNotEqualsIgnoreCase
                );
                pats.iter().any(|p| {
                    if fold {
                        p.matches_ignore_case(&text, ctx)
                    } else {
                        p.matches(&text, ctx)
                    }
                })
            }
            Values::Arn(pats) => {
                let text = v.as_text();
                pats.iter().any(|p| arn_matches(p, &text, ctx))
            }
            Values::Num(nums) => {
                let Some(x) = (match v {
                    Value::Num(n) => Some(*n),
                    Value::Str(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                }) else {
                    return false;
                };
                nums.iter().any(|&n| {
                    let ord = x.partial_cmp(&n);
                    compare(op, ord)
                })
            }
            Values::Date(dates) => {
                let Some(x) = (match v {
                    Value::Date(d) => Some(*d),
                    Value::Num(n) => Some(*n as i64),
                    Value::Str(s) => parse_date(s),
                    _ => None,
                }) else {
                    return false;
                };
                dates.iter().any(|&d| compare(op, Some(x.cmp(&d))))
            }
            Values::Bool(bools) => {
                let Some(x) = (match v {
                    Value::Bool(b) => Some(*b),
                    Value::Str(s) => parse_bool(s),
                    _ => None,
                }) else {
                    return false;
                };
                bools.contains(&x)
            }
            Values::Binary(blobs) => {
                let bytes: Option<std::borrow::Cow<'_, [u8]>> = match v {
                    Value::Bytes(b) => Some(std::borrow::Cow::Borrowed(b)),
                    Value::Str(s) => base64::engine::general_purpose::STANDARD
                        .decode(s.trim())
                        .ok()
                        .map(std::borrow::Cow::Owned),
                    _ => None,
                };
                bytes.is_some_and(|b| blobs.iter().any(|x| x.as_slice() == b.as_ref()))
            }
            Values::Ip(nets) => {
                let ip = match v {
                    Value::Ip(ip) => Some(*ip),
                    Value::Str(s) => s.trim().parse::<IpAddr>().ok(),
                    _ => None,
                };
                ip.is_some_and(|ip| nets.iter().any(|n| n.contains(ip)))
            }
            Values::Null(_) => false,
        }
    }
}

/// Positive comparison for numeric and date operators (negation is applied by the caller).
fn compare(op: Op, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    let Some(ord) = ord else { return false };
    match op {
        Op::NumericEquals | Op::NumericNotEquals | Op::DateEquals | Op::DateNotEquals => {
            ord == Equal
        }
        Op::NumericLessThan | Op::DateLessThan => ord == Less,
        Op::NumericLessThanEquals | Op::DateLessThanEquals => ord != Greater,
        Op::NumericGreaterThan | Op::DateGreaterThan => ord == Greater,
        Op::NumericGreaterThanEquals | Op::DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

/// ARN operators compare each of the six `:`-separated components separately.
/// A policy value that is not ARN-shaped is compared as a whole.
fn arn_matches(pattern: &Pattern, text: &str, vars: &dyn Vars) -> bool {
    let resolved;
    let pattern = if pattern.has_vars() {
        match pattern.substitute(vars) {
            Some(p) => {
                resolved = p;
                &resolved
            }
            None => return false,
        }
    } else {
        pattern
    };
    match (pattern.split_arn(), crate::types::split_arn(text)) {
        (Some(pats), Some(parts)) => pats
            .iter()
            .zip(parts.iter())
            .all(|(p, t)| p.matches(t, &super::pattern::NoVars)),
        // A value without any `:` (such as `*`) compares as a whole; an ARN-like value
        // with fewer than six components matches nothing.
        (None, _) if !pattern.as_str().contains(':') => {
            pattern.matches(text, &super::pattern::NoVars)
        }
        (None, _) => false,
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, vals: &[&str]) -> Condition {
        let raw: Vec<String> = vals.iter().map(|s| (*s).to_owned()).collect();
        Condition::new(Operator::parse(op).unwrap(), key, &raw, true).unwrap()
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, vs) in pairs {
            c.set_all(k, vs.iter().map(|v| Value::from(*v)).collect());
        }
        c
    }

    #[test]
    fn operator_names() {
        assert!(Operator::parse("StringEquals").is_some());
        assert!(Operator::parse("ForAllValues:StringLikeIfExists").is_some());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqual").is_none());
        assert!(Operator::parse("ForSomeValues:StringEquals").is_none());
    }

    #[test]
    fn missing_keys() {
        let empty = Context::new();
        assert!(!cond("StringEquals", "s3:prefix", &["a"]).eval(&empty));
        assert!(cond("StringNotEquals", "s3:prefix", &["a"]).eval(&empty));
        assert!(cond("StringEqualsIfExists", "s3:prefix", &["a"]).eval(&empty));
        assert!(cond("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]).eval(&empty));
        assert!(!cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]).eval(&empty));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["a"]).eval(&empty));
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["a"]).eval(&empty));
        assert!(cond("Null", "aws:TagKeys", &["true"]).eval(&empty));
        assert!(!cond("Null", "aws:TagKeys", &["false"]).eval(&empty));
        assert!(!cond("Bool", "aws:SecureTransport", &["false"]).eval(&empty));
    }

    #[test]
    fn strings() {
        let c = ctx(&[("s3:x-amz-acl", &["bucket-owner-full-control"])]);
        assert!(cond(
            "StringEquals",
            "s3:x-amz-acl",
            &["private", "bucket-owner-full-control"]
        )
        .eval(&c));
        assert!(!cond(
            "StringNotEquals",
            "s3:x-amz-acl",
            &["bucket-owner-full-control"]
        )
        .eval(&c));
        assert!(cond("StringNotEquals", "s3:x-amz-acl", &["private"]).eval(&c));
        assert!(cond(
            "StringEqualsIgnoreCase",
            "S3:X-AMZ-ACL",
            &["Bucket-Owner-Full-Control"]
        )
        .eval(&c));
        assert!(!cond(
            "StringEquals",
            "s3:x-amz-acl",
            &["Bucket-Owner-Full-Control"]
        )
        .eval(&c));
        assert!(cond("StringLike", "s3:x-amz-acl", &["bucket-*"]).eval(&c));
        assert!(!cond("StringNotLike", "s3:x-amz-acl", &["*full*"]).eval(&c));
        // StringEquals treats `*` literally.
        assert!(!cond("StringEquals", "s3:x-amz-acl", &["bucket-*"]).eval(&c));
    }

    #[test]
    fn set_operators() {
        let c = ctx(&[("aws:TagKeys", &["env", "team"])]);
        assert!(cond(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            &["env", "team", "x"]
        )
        .eval(&c));
        assert!(!cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).eval(&c));
        assert!(cond("ForAnyValue:StringEquals", "aws:TagKeys", &["env"]).eval(&c));
        assert!(!cond("ForAnyValue:StringEquals", "aws:TagKeys", &["x"]).eval(&c));
        assert!(cond("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"]).eval(&c));
        assert!(!cond("ForAllValues:StringNotEquals", "aws:TagKeys", &["env"]).eval(&c));
        let empty = ctx(&[("aws:TagKeys", &[])]);
        assert!(cond("ForAllValues:StringEquals", "aws:TagKeys", &["env"]).eval(&empty));
    }

    #[test]
    fn numbers_dates_bools() {
        let c = ctx(&[
            ("s3:max-keys", &["10"]),
            ("aws:CurrentTime", &["2024-06-01T12:00:00Z"]),
            ("aws:SecureTransport", &["false"]),
        ]);
        assert!(cond("NumericLessThanEquals", "s3:max-keys", &["10"]).eval(&c));
        assert!(!cond("NumericLessThan", "s3:max-keys", &["10"]).eval(&c));
        assert!(cond("NumericNotEquals", "s3:max-keys", &["11"]).eval(&c));
        assert!(cond("NumericGreaterThan", "s3:max-keys", &["9.5"]).eval(&c));
        assert!(cond("DateGreaterThan", "aws:CurrentTime", &["2024-01-01"]).eval(&c));
        assert!(cond(
            "DateLessThan",
            "aws:CurrentTime",
            &["2024-06-01T13:00:00+00:00"]
        )
        .eval(&c));
        assert!(cond("DateEquals", "aws:CurrentTime", &["1717243200"]).eval(&c));
        assert!(cond("Bool", "aws:SecureTransport", &["false"]).eval(&c));
        assert!(!cond("Bool", "aws:SecureTransport", &["true"]).eval(&c));
        let raw = vec!["soon".to_owned()];
        assert!(Condition::new(Operator::parse("DateLessThan").unwrap(), "k", &raw, true).is_err());
        assert!(
            Condition::new(Operator::parse("NumericEquals").unwrap(), "k", &raw, true).is_err()
        );
        assert!(Condition::new(Operator::parse("Bool").unwrap(), "k", &raw, true).is_err());
    }

    #[test]
    fn ip_addresses() {
        let c = ctx(&[("aws:SourceIp", &["203.0.113.7"])]);
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).eval(&c));
        assert!(!cond("IpAddress", "aws:SourceIp", &["198.51.100.0/24"]).eval(&c));
        assert!(cond("NotIpAddress", "aws:SourceIp", &["198.51.100.0/24"]).eval(&c));
        assert!(cond("IpAddress", "aws:SourceIp", &["203.0.113.7"]).eval(&c));
        assert!(cond("IpAddress", "aws:SourceIp", &["0.0.0.0/0"]).eval(&c));
        let c6 = ctx(&[("aws:SourceIp", &["2001:db8:1234::1"])]);
        assert!(cond("IpAddress", "aws:SourceIp", &["2001:db8::/32"]).eval(&c6));
        assert!(!cond("IpAddress", "aws:SourceIp", &["2001:db9::/32"]).eval(&c6));
        assert!(!cond("IpAddress", "aws:SourceIp", &["203.0.113.0/24"]).eval(&c6));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nope").is_none());
    }

    #[test]
    fn arns_and_binary() {
        let c = ctx(&[
            (
                "aws:SourceArn",
                &["arn:aws:sns:us-east-1:111122223333:topic"],
            ),
            ("k", &["aGVsbG8="]),
        ]);
        assert!(cond(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:*:111122223333:*"]
        )
        .eval(&c));
        // `*` does not cross component boundaries.
        assert!(!cond("ArnLike", "aws:SourceArn", &["arn:aws:sns:*"]).eval(&c));
        assert!(cond("ArnNotLike", "aws:SourceArn", &["arn:aws:sqs:*:*:*"]).eval(&c));
        assert!(cond(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:111122223333:topic"]
        )
        .eval(&c));
        assert!(cond("BinaryEquals", "k", &["aGVsbG8="]).eval(&c));
        assert!(!cond("BinaryEquals", "k", &["aGVsbG9v"]).eval(&c));
    }

    #[test]
    fn variables_in_values() {
        let mut c = ctx(&[("s3:prefix", &["home/bob/"])]);
        c.set("aws:username", "bob");
        assert!(cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]).eval(&c));
        assert!(cond("StringEquals", "s3:prefix", &["home/${aws:username}/"]).eval(&c));
        c.set("aws:username", "alice");
        assert!(!cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]).eval(&c));
        c.remove("aws:username");
        assert!(!cond("StringLike", "s3:prefix", &["home/${aws:username}/*"]).eval(&c));
    }
}
