//! `--include` / `--exclude`: glob filters on keys relative to the copied prefix. A key is
//! copied unless it matches an `--exclude` pattern, and an `--include` pattern brings back a
//! key an exclude matched (so `--exclude '*' --include '*.csv'` copies only CSV files,
//! whatever the order of the flags). `*` and `?` also match `/`, so `--exclude '*.tmp'`
//! excludes temporary files in every folder.
//!
//! Filters apply to both listings of a sync, so `--delete` never removes an excluded key.

use globset::{Glob, GlobBuilder, GlobMatcher};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Include(String),
    Exclude(String),
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    rules: Vec<(bool, GlobMatcher)>,
}

impl Filter {
    /// Compiles the rules; a malformed glob is refused with its text.
    pub fn new(rules: &[Rule]) -> Result<Filter, String> {
        let rules = rules
            .iter()
            .map(|r| {
                let (include, pattern) = match r {
                    Rule::Include(p) => (true, p),
                    Rule::Exclude(p) => (false, p),
                };
                let glob: Glob = GlobBuilder::new(pattern)
                    .literal_separator(false)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| format!("invalid glob `{pattern}`: {e}"))?;
                Ok((include, glob.compile_matcher()))
            })
            .collect::<Result<_, String>>()?;
        Ok(Filter { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `key` (relative to the copied prefix) is copied.
    pub fn accepts(&self, key: &str) -> bool {
        let mut excluded = false;
        for (include, m) in &self.rules {
            if m.is_match(key) {
                if *include {
                    return true;
                }
                excluded = true;
            }
        }
        !excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rules: &[Rule]) -> Filter {
        Filter::new(rules).unwrap()
    }

    #[test]
    fn includes_bring_back_what_excludes_remove() {
        let none = f(&[]);
        assert!(none.accepts("a/b.txt"));
        let only_logs = f(&[
            Rule::Exclude("*".into()),
            Rule::Include("logs/*.log".into()),
        ]);
        assert!(only_logs.accepts("logs/x.log"));
        assert!(only_logs.accepts("logs/deep/x.log"), "* crosses /");
        assert!(!only_logs.accepts("data/x.log"));
        let no_tmp = f(&[Rule::Exclude("*.tmp".into())]);
        assert!(!no_tmp.accepts("a/b/c.tmp"));
        assert!(no_tmp.accepts("a/b/c.txt"));
        let reinclude = f(&[
            Rule::Include("keep/*".into()),
            Rule::Exclude("*.tmp".into()),
        ]);
        assert!(reinclude.accepts("keep/x.tmp"), "order does not matter");
        assert!(!reinclude.accepts("other/x.tmp"));
        assert!(
            f(&[Rule::Include("x".into())]).accepts("y"),
            "nothing excluded"
        );
    }

    #[test]
    fn malformed_globs_are_refused() {
        let e = Filter::new(&[Rule::Include("a[".into())]).unwrap_err();
        assert!(e.contains("a["), "{e}");
    }
}
