//! Property tests for the wildcard matcher: it agrees with a naive reference matcher on random
//! patterns and texts (including multi-byte characters), and basic laws hold.

use ferry::policy::pattern::{NoVars, Pattern, Syntax, Vars};
use proptest::prelude::*;

const WILD: Syntax = Syntax {
    wildcards: true,
    variables: false,
};

/// Reference semantics: `*` any run of characters, `?` one character, all else literal.
fn reference(p: &[char], t: &[char], fold: bool) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..], fold)),
        Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..], fold),
        Some((c, rest)) => match t.split_first() {
            Some((d, trest)) => {
                let same = if fold {
                    c.eq_ignore_ascii_case(d)
                } else {
                    c == d
                };
                same && reference(rest, trest, fold)
            }
            None => false,
        },
    }
}

fn alphabet() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'b', 'A', '/', ':', 'é', '日', '*', '?']),
        0..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec!['a', 'b', 'A', '/', ':', 'é', '日']),
        0..16,
    )
    .prop_map(|v| v.into_iter().collect())
}

struct One(&'static str, String);
impl Vars for One {
    fn var(&self, key: &str) -> Option<&str> {
        (key == self.0).then_some(self.1.as_str())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_reference(p in alphabet(), t in text()) {
        let pat = Pattern::parse(&p, WILD).unwrap();
        let pc: Vec<char> = p.chars().collect();
        let tc: Vec<char> = t.chars().collect();
        prop_assert_eq!(pat.matches(&t, &NoVars), reference(&pc, &tc, false), "pattern {:?} text {:?}", p, t);
        prop_assert_eq!(pat.matches_ignore_case(&t, &NoVars), reference(&pc, &tc, true), "folded: pattern {:?} text {:?}", p, t);
    }

    #[test]
    fn literal_text_matches_itself(t in text()) {
        prop_assert!(Pattern::parse(&t, WILD).unwrap().matches(&t, &NoVars));
        prop_assert!(Pattern::literal(&t).matches(&t, &NoVars));
    }

    #[test]
    fn star_matches_everything(t in text()) {
        prop_assert!(Pattern::wildcard("*").matches(&t, &NoVars));
    }

    #[test]
    fn prefix_star(prefix in text(), rest in text()) {
        let pat = Pattern::parse(&format!("{prefix}*"), WILD).unwrap();
        let joined = format!("{prefix}{rest}");
        prop_assert!(pat.matches(&joined, &NoVars));
    }

    #[test]
    fn variable_values_are_literal(value in alphabet(), t in text()) {
        // `${aws:username}` expands to its value taken literally, wildcards included.
        let pat = Pattern::parse("${aws:username}", Syntax { wildcards: true, variables: true }).unwrap();
        let vars = One("aws:username", value.clone());
        prop_assert_eq!(pat.matches(&t, &vars), t == value);
    }
}
