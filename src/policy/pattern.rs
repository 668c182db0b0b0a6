//! Wildcard patterns with policy variables: the matcher behind `Action`, `Resource`, the
//! `String*Like` and `Arn*` condition operators.
//!
//! A pattern is parsed once (at policy parse time) into pieces: literal text, `*`, `?` and
//! `${variable}` references. Matching never allocates for patterns without variables and
//! runs in O(pattern × text) time with a single backtrack point (no exponential blow-up).
//! Variables resolve through a caller-supplied lookup; a variable that resolves to nothing
//! (and has no default) makes the pattern match nothing, as IAM documents.
//!
//! This module does not know which policy elements allow variables or wildcards: the parser
//! decides that and builds the pattern accordingly.

use std::fmt;

/// One parsed piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Literal text (escapes such as `${*}` are already resolved into it).
    Lit(String),
    /// `*`: any sequence of characters, including none.
    Star,
    /// `?`: exactly one character.
    Quest,
    /// `${key}` or `${key, 'default'}`; `key` is stored lowercase (keys are case-insensitive).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A compiled pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    pieces: Vec<Piece>,
    has_vars: bool,
    has_wildcards: bool,
}

/// How a pattern's text is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Syntax {
    /// `*` and `?` are wildcards (otherwise literal characters).
    pub wildcards: bool,
    /// `${...}` is a policy variable (policy version 2012-10-17 and an element that allows them).
    pub variables: bool,
}

/// A malformed `${...}` reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(pub String);

/// Where a pattern's variables get their values.
pub trait Vars {
    /// The value of the (lowercase) key, if the request has one.
    fn var(&self, key: &str) -> Option<&str>;
}

/// No variables available (every reference resolves to nothing).
pub struct NoVars;
impl Vars for NoVars {
    fn var(&self, _key: &str) -> Option<&str> {
        None
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.source)
    }
}

impl Pattern {
    /// Parses `source` under the given syntax.
    pub fn parse(source: &str, syntax: Syntax) -> Result<Pattern, PatternError> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit = String::new();
        let mut rest = source;
        let flush = |lit: &mut String, pieces: &mut Vec<Piece>| {
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(lit)));
            }
        };
        while let Some(c) = rest.chars().next() {
            if syntax.variables && rest.starts_with("${") {
                let close = rest
                    .find('}')
                    .ok_or_else(|| PatternError(format!("unclosed `${{` in `{source}`")))?;
                let inner = &rest[2..close];
                rest = &rest[close + 1..];
                match inner {
                    "*" => lit.push('*'),
                    "?" => lit.push('?'),
                    "$" => lit.push('$'),
                    _ => {
                        let (key, default) = parse_var(inner).ok_or_else(|| {
                            PatternError(format!("malformed policy variable `${{{inner}}}`"))
                        })?;
                        flush(&mut lit, &mut pieces);
                        pieces.push(Piece::Var { key, default });
                    }
                }
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut lit, &mut pieces);
                    if pieces.last() != Some(&Piece::Star) {
                        pieces.push(Piece::Star);
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut lit, &mut pieces);
                    pieces.push(Piece::Quest);
                }
                _ => lit.push(c),
            }
        }
        flush(&mut lit, &mut pieces);
        let has_vars = pieces.iter().any(|p| matches!(p, Piece::Var { .. }));
        let has_wildcards = pieces
            .iter()
            .any(|p| matches!(p, Piece::Star | Piece::Quest));
        Ok(Pattern {
            source: source.to_owned(),
            pieces,
            has_vars,
            has_wildcards,
        })
    }

    /// A pattern with wildcards and no variables (actions; 2008-10-17 resources).
    pub fn wildcard(source: &str) -> Pattern {
        // Without variables parsing cannot fail.
        Pattern::parse(
            source,
            Syntax {
                wildcards: true,
                variables: false,
            },
        )
        .unwrap_or_else(|_| Pattern::literal(source))
    }

    /// A pattern that matches exactly `source`.
    pub fn literal(source: &str) -> Pattern {
        let pieces = if source.is_empty() {
            Vec::new()
        } else {
            vec![Piece::Lit(source.to_owned())]
        };
        Pattern {
            source: source.to_owned(),
            pieces,
            has_vars: false,
            has_wildcards: false,
        }
    }

    /// The text the pattern was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern references a policy variable.
    pub fn has_vars(&self) -> bool {
        self.has_vars
    }

    /// Whether the pattern contains `*` or `?` wildcards.
    pub fn has_wildcards(&self) -> bool {
        self.has_wildcards
    }

    /// The keys of the variables the pattern references (lowercase).
    pub fn var_keys(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }

    /// Case-sensitive match of the whole `text`.
    pub fn matches(&self, text: &str, vars: &dyn Vars) -> bool {
        self.matches_with(text, vars, false)
    }

    /// ASCII case-insensitive match of the whole `text` (actions, `StringEqualsIgnoreCase`).
    pub fn matches_ignore_case(&self, text: &str, vars: &dyn Vars) -> bool {
        self.matches_with(text, vars, true)
    }

    /// Resolves the variables to text; `None` if one is missing and has no default.
    /// Wildcards stay wildcards; the result is meant for exact comparisons.
    pub fn resolve(&self, vars: &dyn Vars) -> Option<String> {
        let mut out = String::with_capacity(self.source.len());
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Star => out.push('*'),
                Piece::Quest => out.push('?'),
                Piece::Var { key, default } => out.push_str(resolve_var(key, default, vars)?),
            }
        }
        Some(out)
    }

    /// The pattern with its variables replaced by their (literal) values; `None` if one is
    /// missing and has no default.
    pub fn substitute(&self, vars: &dyn Vars) -> Option<Pattern> {
        let mut pieces = Vec::with_capacity(self.pieces.len());
        for p in &self.pieces {
            let piece = match p {
                Piece::Var { key, default } => {
                    Piece::Lit(resolve_var(key, default, vars)?.to_owned())
                }
                other => other.clone(),
            };
            match (pieces.last_mut(), piece) {
                (Some(Piece::Lit(prev)), Piece::Lit(s)) => prev.push_str(&s),
                (_, piece) => pieces.push(piece),
            }
        }
        Some(Pattern {
            source: self.source.clone(),
            pieces,
            has_vars: false,
            has_wildcards: self.has_wildcards,
        })
    }

    /// Splits a variable-free pattern at the first five `:` of its literal text into the six
    /// ARN components; `None` if it has fewer than six.
    pub fn split_arn(&self) -> Option<[Pattern; 6]> {
        let mut parts: Vec<Vec<Piece>> = vec![Vec::new()];
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => {
                    let mut rest = s.as_str();
                    while parts.len() < 6 {
                        let Some(i) = rest.find(':') else { break };
                        if i > 0 {
                            parts.last_mut()?.push(Piece::Lit(rest[..i].to_owned()));
                        }
                        parts.push(Vec::new());
                        rest = &rest[i + 1..];
                    }
                    if !rest.is_empty() {
                        parts.last_mut()?.push(Piece::Lit(rest.to_owned()));
                    }
                }
                other => parts.last_mut()?.push(other.clone()),
            }
        }
        let parts: Vec<Pattern> = parts
            .into_iter()
            .map(|pieces| {
                let has_wildcards = pieces
                    .iter()
                    .any(|p| matches!(p, Piece::Star | Piece::Quest));
                Pattern {
                    source: String::new(),
                    pieces,
                    has_vars: false,
                    has_wildcards,
                }
            })
            .collect();
        parts.try_into().ok()
    }

    fn matches_with(&self, text: &str, vars: &dyn Vars, fold: bool) -> bool {
        // Fast rejection: the literal text before the first wildcard or variable must be a
        // prefix of `text` (most resource patterns differ from the request right there).
        if let Some(Piece::Lit(lead)) = self.pieces.first() {
            let Some(head) = text.as_bytes().get(..lead.len()) else {
                return false;
            };
            let same = if fold {
                head.eq_ignore_ascii_case(lead.as_bytes())
            } else {
                head == lead.as_bytes()
            };
            if !same {
                return false;
            }
        }
        if !self.has_vars {
            return match_pieces(&self.pieces, &[], text.as_bytes(), fold);
        }
        // Resolve the variables once; a few fit on the stack.
        const INLINE: usize = 4;
        let mut inline: [&str; INLINE] = [""; INLINE];
        let mut spill: Vec<&str> = Vec::new();
        let mut n = 0;
        for p in &self.pieces {
            if let Piece::Var { key, default } = p {
                let Some(v) = resolve_var(key, default, vars) else {
                    return false;
                };
                if n < INLINE {
                    inline[n] = v;
                } else {
                    if spill.is_empty() {
                        spill.extend_from_slice(&inline);
                    }
                    spill.push(v);
                }
                n += 1;
            }
        }
        let values: &[&str] = if n <= INLINE { &inline[..n] } else { &spill };
        match_pieces(&self.pieces, values, text.as_bytes(), fold)
    }
}

fn resolve_var<'a>(key: &str, default: &'a Option<String>, vars: &'a dyn Vars) -> Option<&'a str> {
    match vars.var(key) {
        Some(v) => Some(v),
        None => default.as_deref(),
    }
}

/// Parses the inside of `${...}`: `key` or `key, 'default'`.
fn parse_var(inner: &str) -> Option<(String, Option<String>)> {
    let (key, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k.trim(), Some(d.to_owned()))
        }
    };
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/-_.@+=".contains(c));
    valid.then(|| (key.to_ascii_lowercase(), default))
}

/// One step of the pattern: what the pattern expects next.
#[derive(Clone, Copy)]
enum Atom {
    Byte(u8),
    AnyChar,
    AnyStr,
}

/// A position in the pattern: which piece, and the byte offset inside literal text.
#[derive(Clone, Copy)]
struct Cursor {
    piece: usize,
    off: usize,
    var: usize,
}

fn atom_at(pieces: &[Piece], values: &[&str], c: Cursor) -> Option<(Atom, Cursor)> {
    let mut c = c;
    loop {
        let piece = pieces.get(c.piece)?;
        let next_piece = Cursor {
            piece: c.piece + 1,
            off: 0,
            var: c.var,
        };
        match piece {
            Piece::Star => return Some((Atom::AnyStr, next_piece)),
            Piece::Quest => return Some((Atom::AnyChar, next_piece)),
            Piece::Lit(s) => {
                if let Some(&b) = s.as_bytes().get(c.off) {
                    return Some((
                        Atom::Byte(b),
                        Cursor {
                            off: c.off + 1,
                            ..c
                        },
                    ));
                }
                c = next_piece;
            }
            Piece::Var { .. } => {
                let v = values.get(c.var).copied().unwrap_or("");
                if let Some(&b) = v.as_bytes().get(c.off) {
                    return Some((
                        Atom::Byte(b),
                        Cursor {
                            off: c.off + 1,
                            ..c
                        },
                    ));
                }
                c = Cursor {
                    var: c.var + 1,
                    ..next_piece
                };
            }
        }
    }
}

/// Length in bytes of the UTF-8 character starting with `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        // A continuation byte cannot start a character of valid UTF-8; step over it.
        _ => 1,
    }
}

fn match_pieces(pieces: &[Piece], values: &[&str], text: &[u8], fold: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let mut p = Cursor {
        piece: 0,
        off: 0,
        var: 0,
    };
    let mut t = 0usize;
    // Where to resume after the last `*`: the pattern after it, and the text it has eaten up to.
    let mut star: Option<(Cursor, usize)> = None;
    while t < text.len() {
        match atom_at(pieces, values, p) {
            Some((Atom::AnyStr, next)) => {
                star = Some((next, t));
                p = next;
                continue;
            }
            Some((Atom::AnyChar, next)) => {
                t = (t + char_len(text[t])).min(text.len());
                p = next;
                continue;
            }
            Some((Atom::Byte(b), next)) if eq(b, text[t]) => {
                t += 1;
                p = next;
                continue;
            }
            _ => {}
        }
        match star {
            Some((after, eaten)) => {
                let eaten = (eaten + char_len(text[eaten])).min(text.len());
                star = Some((after, eaten));
                p = after;
                t = eaten;
            }
            None => return false,
        }
    }
    // Text exhausted: only stars may remain.
    loop {
        match atom_at(pieces, values, p) {
            None => return true,
            Some((Atom::AnyStr, next)) => p = next,
            Some(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<&'static str, &'static str>);
    impl Vars for Map {
        fn var(&self, key: &str) -> Option<&str> {
            self.0.get(key).copied()
        }
    }

    const FULL: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };

    fn m(pat: &str, text: &str) -> bool {
        Pattern::parse(pat, FULL).unwrap().matches(text, &NoVars)
    }

    #[test]
    fn wildcards() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("a*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "abd", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "aéc", true),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/", true),
            ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false),
            (
                "arn:aws:s3:::bucket/foo*",
                "arn:aws:s3:::bucket/foo/x",
                true,
            ),
            (
                "arn:aws:s3:::bucket/foo*",
                "arn:aws:s3:::bucket/fighters",
                false,
            ),
            (
                "*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("**", "x", true),
            ("", "", true),
            ("", "x", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(m(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn case_folding_is_opt_in() {
        let p = Pattern::wildcard("s3:Get*");
        assert!(p.matches_ignore_case("S3:GETOBJECT", &NoVars));
        assert!(!p.matches("S3:GETOBJECT", &NoVars));
        assert!(p.matches("s3:GetObject", &NoVars));
    }

    #[test]
    fn variables_and_escapes() {
        let vars = Map(HashMap::from([("aws:username", "bob*")]));
        let p = Pattern::parse("arn:aws:s3:::b/home/${aws:username}/*", FULL).unwrap();
        assert!(p.matches("arn:aws:s3:::b/home/bob*/x", &vars));
        // The variable's value is literal: its `*` is no wildcard.
        assert!(!p.matches("arn:aws:s3:::b/home/bobby/x", &vars));
        assert!(!p.matches("arn:aws:s3:::b/home/bob*/x", &NoVars));
        let d = Pattern::parse("a/${aws:username, 'nobody'}", FULL).unwrap();
        assert!(d.matches("a/nobody", &NoVars));
        assert!(d.matches("a/bob*", &vars));
        let esc = Pattern::parse("x${*}y${?}${$}", FULL).unwrap();
        assert!(esc.matches("x*y?$", &NoVars));
        assert!(!esc.matches("xzy?$", &NoVars));
        // Keys are case-insensitive.
        let up = Pattern::parse("${AWS:UserName}", FULL).unwrap();
        assert!(up.matches("bob*", &vars));
    }

    #[test]
    fn no_variables_in_2008_syntax() {
        let p = Pattern::parse(
            "home/${aws:username}",
            Syntax {
                wildcards: true,
                variables: false,
            },
        )
        .unwrap();
        assert!(p.matches("home/${aws:username}", &NoVars));
    }

    #[test]
    fn malformed_variables() {
        for bad in ["${", "${}", "${a b}", "${k, nodefaultquotes}"] {
            assert!(Pattern::parse(bad, FULL).is_err(), "{bad}");
        }
    }
}
