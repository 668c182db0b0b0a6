//! The step vocabulary: one module per domain, each a table of [`StepDef`]s (anchored regular
//! expressions with a line of documentation, listed by `ferry check --list-steps` and in
//! `features/README.md`).
//!
//! Arguments are quoted (`"..."`); every argument and docstring has its placeholders
//! replaced before the step runs ([`super::world::FerryWorld::expand`]). Actions run as a
//! named principal and record their [`super::world::Outcome`]; the outcome steps check it.

use cucumber::step::Context;

use super::world::{fail, FerryWorld};

pub mod accounts;
pub mod copy;
pub mod iam;
pub mod outcome;
pub mod s3;
pub mod sts;

/// Given, When or Then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Given,
    When,
    Then,
}

impl Kind {
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Given => "Given",
            Kind::When => "When",
            Kind::Then => "Then",
        }
    }
}

/// A step: its pattern, what it does, and the function that runs it.
#[derive(Clone, Copy)]
pub struct StepDef {
    pub kind: Kind,
    pub pattern: &'static str,
    pub doc: &'static str,
    pub run: cucumber::step::Step<FerryWorld>,
}

impl std::fmt::Debug for StepDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.keyword(), self.pattern)
    }
}

/// A step's arguments, placeholders replaced.
#[derive(Clone, Debug)]
pub struct Args {
    groups: Vec<String>,
    pub docstring: Option<String>,
}

impl Args {
    pub fn new(w: &FerryWorld, ctx: &Context) -> Args {
        Args {
            groups: ctx
                .matches
                .iter()
                .skip(1)
                .map(|(_, v)| w.expand(v))
                .collect(),
            docstring: ctx.step.docstring.as_ref().map(|d| w.expand(d)),
        }
    }

    /// Capture group `i` (from 1); empty when the group did not take part.
    pub fn get(&self, i: usize) -> &str {
        self.groups.get(i - 1).map(String::as_str).unwrap_or("")
    }

    /// Capture group `i`, `None` when it did not take part (or is empty).
    pub fn opt(&self, i: usize) -> Option<&str> {
        Some(self.get(i)).filter(|s| !s.is_empty())
    }

    /// The step's docstring (required).
    pub fn doc(&self) -> &str {
        match &self.docstring {
            Some(d) => d.trim(),
            None => fail("this step needs a docstring (\"\"\" ... \"\"\") with the JSON document"),
        }
    }
}

/// Wraps `async fn f(&mut FerryWorld, Args)` as a cucumber step function.
macro_rules! step {
    ($kind:ident, $pattern:literal, $doc:literal, $f:path) => {
        $crate::harness::steps::StepDef {
            kind: $crate::harness::steps::Kind::$kind,
            pattern: $pattern,
            doc: $doc,
            run: {
                fn __step<'a>(
                    w: &'a mut $crate::harness::world::FerryWorld,
                    ctx: cucumber::step::Context,
                ) -> futures::future::LocalBoxFuture<'a, ()> {
                    Box::pin(async move {
                        let a = $crate::harness::steps::Args::new(w, &ctx);
                        // An action written as `Given` is setup: it must succeed.
                        let setup = $crate::harness::steps::Kind::$kind
                            == $crate::harness::steps::Kind::When
                            && ctx.step.ty == cucumber::gherkin::StepType::Given;
                        if setup {
                            w.last = None;
                        }
                        $f(w, a).await;
                        if setup && w.last.is_some() {
                            $crate::harness::steps::outcome::expect(w, None);
                        }
                    })
                }
                __step
            },
        }
    };
}
pub(crate) use step;

/// Every step, in documentation order.
pub fn all() -> Vec<StepDef> {
    let mut v = Vec::new();
    v.extend(accounts::steps());
    v.extend(iam::steps());
    v.extend(sts::steps());
    v.extend(s3::steps());
    v.extend(copy::steps());
    v.extend(outcome::steps());
    v
}

/// A boxed no-op, for tests of the table.
#[cfg(test)]
fn _assert_step_type(
    _: for<'a> fn(&'a mut FerryWorld, Context) -> futures::future::LocalBoxFuture<'a, ()>,
) {
}

/// Every quoted argument of a list such as `"A", "B" and "C"`.
pub fn quoted(list: &str) -> Vec<String> {
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_is_anchored_and_documented() {
        let all = all();
        assert!(all.len() > 30, "{}", all.len());
        for d in &all {
            regex::Regex::new(d.pattern).unwrap();
            assert!(
                d.pattern.starts_with('^') && d.pattern.ends_with('$'),
                "{d:?}"
            );
            assert!(!d.doc.is_empty(), "{d:?}");
            _assert_step_type(d.run);
        }
    }

    #[test]
    fn no_step_text_matches_two_patterns() {
        let all = all();
        let examples = [
            "accounts \"A\", \"B\" and \"C\"",
            "\"bob\" gets object \"k\" from bucket \"b\"",
            "\"bob\" puts object \"k\" in bucket \"b\" containing \"x\" with ACL \"private\"",
            "\"bob\" puts object \"k\" in bucket \"b\" with grant-full-control \"id=1\"",
            "\"bob\" lists bucket \"b\" with prefix \"p/\"",
            "\"bob\" lists the buckets",
            "\"bob\" assumes role \"r\" as session \"s\"",
            "it is denied",
        ];
        for e in examples {
            let n = all
                .iter()
                .filter(|d| regex::Regex::new(d.pattern).unwrap().is_match(e))
                .count();
            assert_eq!(n, 1, "{e}");
        }
    }

    #[test]
    fn features_readme_documents_every_step() {
        let readme = include_str!("../../../features/README.md");
        for d in all() {
            let shown = format!("`{}`", d.pattern.replace('|', "\\|"));
            assert!(readme.contains(&shown), "features/README.md lacks {shown}");
        }
    }

    #[test]
    fn quoted_lists() {
        assert_eq!(quoted("\"A\", \"B\" and \"C\""), ["A", "B", "C"]);
        assert_eq!(quoted("\"A\""), ["A"]);
    }
}
