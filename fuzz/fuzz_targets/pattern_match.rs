//! Fuzzes the wildcard/variable matcher behind `Action`, `Resource`, `String*Like` and `Arn*`.
//!
//! Input: one flag byte (bit 0: wildcards, bit 1: variables, bit 2: fold ASCII case), then
//! UTF-8 text (invalid sequences replaced) split on NUL: the pattern, the text to match, and
//! any number of `key=value` variable bindings. For example
//! `\x03arn:aws:s3:::b/home/${aws:username}/*\0arn:aws:s3:::b/home/bob/x\0aws:username=bob`
//! (see `fuzz/seeds/pattern_match/`). Nothing may panic, and:
//! - `Pattern::parse` accepts exactly what a small reference parser accepts;
//! - `matches`/`matches_ignore_case` agree with a reference matcher (dynamic programming over
//!   characters: `*` any sequence, `?` exactly one character, variables literal text);
//! - substituting the variables first (`substitute`) gives the same answer;
//! - `Pattern::literal(s)` matches exactly `s`.

#![no_main]

use ferry::policy::pattern::{NoVars, Pattern, Syntax, Vars};
use libfuzzer_sys::fuzz_target;

struct Input<'a> {
    pattern: &'a str,
    text: &'a str,
    wildcards: bool,
    variables: bool,
    fold: bool,
    vars: Vec<(&'a str, &'a str)>,
}

impl<'a> Input<'a> {
    fn decode(flags: u8, body: &'a str) -> Input<'a> {
        let mut fields = body.split('\0');
        let pattern = fields.next().unwrap_or("");
        let text = fields.next().unwrap_or("");
        let vars = fields
            .map(|f| f.split_once('=').unwrap_or((f, "")))
            .collect();
        Input {
            pattern,
            text,
            wildcards: flags & 1 != 0,
            variables: flags & 2 != 0,
            fold: flags & 4 != 0,
            vars,
        }
    }
}

/// Variable bindings; keys are matched lowercase, as the pattern stores them.
struct Map(Vec<(String, String)>);

impl Vars for Map {
    fn var(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reference tokens.
#[derive(Debug)]
enum Tok {
    Ch(char),
    Star,
    Quest,
    Var(String, Option<String>),
}

/// Reference parser, written from the documented grammar: `*`, `?` (when wildcards are on),
/// `${*}`, `${?}`, `${$}` escapes and `${key}` / `${key, 'default'}` (when variables are on),
/// key characters `[A-Za-z0-9:/\-_.@+=]`, whitespace around key and default ignored.
fn ref_parse(src: &str, syntax: Syntax) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if syntax.variables && chars[i] == '$' && chars.get(i + 1) == Some(&'{') {
            let close = (i + 2..chars.len()).find(|&j| chars[j] == '}')?;
            let inner: String = chars[i + 2..close].iter().collect();
            i = close + 1;
            match inner.as_str() {
                "*" => out.push(Tok::Ch('*')),
                "?" => out.push(Tok::Ch('?')),
                "$" => out.push(Tok::Ch('$')),
                _ => {
                    let (key, default) = match inner.find(',') {
                        None => (inner.trim().to_owned(), None),
                        Some(c) => {
                            let d = inner[c + 1..].trim();
                            if d.len() < 2 || !d.starts_with('\'') || !d.ends_with('\'') {
                                return None;
                            }
                            (
                                inner[..c].trim().to_owned(),
                                Some(d[1..d.len() - 1].to_owned()),
                            )
                        }
                    };
                    let ok = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || ":/-_.@+=".contains(c));
                    if !ok {
                        return None;
                    }
                    out.push(Tok::Var(key.to_ascii_lowercase(), default));
                }
            }
            continue;
        }
        let c = chars[i];
        i += 1;
        match c {
            '*' if syntax.wildcards => out.push(Tok::Star),
            '?' if syntax.wildcards => out.push(Tok::Quest),
            _ => out.push(Tok::Ch(c)),
        }
    }
    Some(out)
}

#[derive(Clone, Copy)]
enum R {
    Ch(char),
    Star,
    Quest,
}

/// Reference matcher; `None` when a variable has no value and no default (matches nothing).
fn ref_match(toks: &[Tok], text: &str, vars: &dyn Vars, fold: bool) -> Option<bool> {
    let mut pat = Vec::new();
    for t in toks {
        match t {
            Tok::Ch(c) => pat.push(R::Ch(*c)),
            Tok::Star => pat.push(R::Star),
            Tok::Quest => pat.push(R::Quest),
            Tok::Var(k, d) => {
                let v = vars.var(k).or(d.as_deref())?;
                pat.extend(v.chars().map(R::Ch));
            }
        }
    }
    let text: Vec<char> = text.chars().collect();
    if pat.len().saturating_mul(text.len() + 1) > 2_000_000 {
        return None;
    }
    // dp[j]: pattern prefix matches text prefix of length j.
    let mut dp = vec![false; text.len() + 1];
    dp[0] = true;
    for p in &pat {
        let mut next = vec![false; text.len() + 1];
        match p {
            R::Star => {
                let mut any = false;
                for j in 0..=text.len() {
                    any |= dp[j];
                    next[j] = any;
                }
            }
            R::Quest => {
                for j in 1..=text.len() {
                    next[j] = dp[j - 1];
                }
            }
            R::Ch(c) => {
                for j in 1..=text.len() {
                    let eq = if fold {
                        c.eq_ignore_ascii_case(&text[j - 1])
                    } else {
                        *c == text[j - 1]
                    };
                    next[j] = dp[j - 1] && eq;
                }
            }
        }
        dp = next;
    }
    Some(dp[text.len()])
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    let input = Input::decode(flags, &body);
    let syntax = Syntax {
        wildcards: input.wildcards,
        variables: input.variables,
    };
    let vars = Map(input
        .vars
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect());
    let run = |p: &Pattern, text: &str, vars: &dyn Vars| {
        if input.fold {
            p.matches_ignore_case(text, vars)
        } else {
            p.matches(text, vars)
        }
    };

    // Never panics, whatever the flags.
    let _ = Pattern::wildcard(input.pattern).matches(input.text, &NoVars);
    let lit = Pattern::literal(input.pattern);
    assert_eq!(
        lit.matches(input.text, &vars),
        input.pattern == input.text,
        "literal pattern {:?} vs {:?}",
        input.pattern,
        input.text
    );

    let parsed = Pattern::parse(input.pattern, syntax);
    let reference = ref_parse(input.pattern, syntax);
    assert_eq!(
        parsed.is_ok(),
        reference.is_some(),
        "parse disagrees with the reference for {:?} ({syntax:?}): {parsed:?}",
        input.pattern
    );
    let (Ok(p), Some(toks)) = (parsed, reference) else {
        return;
    };

    let _ = p.has_vars();
    let _ = p.has_wildcards();
    let _ = p.var_keys().count();
    let _ = p.resolve(&vars);
    let _ = p.split_arn();

    let got = run(&p, input.text, &vars);
    match ref_match(&toks, input.text, &vars, input.fold) {
        Some(want) => assert_eq!(
            got, want,
            "pattern {:?} ({syntax:?}, fold {}) vs text {:?} with vars {:?}",
            input.pattern, input.fold, input.text, input.vars
        ),
        None => {
            // A missing variable without default: no match (unless the reference was skipped
            // for size, in which case only "no panic" is checked).
        }
    }

    match p.substitute(&vars) {
        Some(s) => {
            assert!(!s.has_vars());
            assert_eq!(
                run(&s, input.text, &NoVars),
                got,
                "substituted pattern disagrees for {:?} vs {:?}",
                input.pattern,
                input.text
            );
            if let Some(parts) = s.split_arn() {
                for part in &parts {
                    let _ = part.matches(input.text, &NoVars);
                }
            }
        }
        None => assert!(!got, "a pattern with an unresolved variable matched"),
    }
});
