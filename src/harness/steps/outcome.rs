//! Outcomes of the last action: succeeds, is denied, fails with a named error code. When an
//! access outcome differs from the expectation on the emulator, the message names the policy
//! and statement that allowed or denied (or says that nothing allowed), from the emulator's
//! decision record.

use super::{step, Args, StepDef};
use crate::harness::world::{fail, FerryWorld};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Then,
            r#"^it succeeds$"#,
            "The last action succeeded.",
            succeeds
        ),
        step!(
            Then,
            r#"^it is denied$"#,
            "The last action failed with AccessDenied.",
            denied
        ),
        step!(
            Then,
            r#"^it fails with "([^"]+)"$"#,
            "The last action failed with this error code (AccessControlListNotSupported, MalformedPolicy, NoSuchKey, ...).",
            fails_with
        ),
        step!(
            Then,
            r#"^the outcome is "([^"]+)"$"#,
            "For scenario outlines: `allowed`, `denied` (AccessDenied) or an error code.",
            outcome_is
        ),
    ]
}

/// Checks the last outcome against `expected`: `None` for success, or an error code.
pub fn expect(w: &FerryWorld, expected: Option<&str>) {
    let o = w.last();
    match (&o.result, expected) {
        (Ok(_), None) => {}
        (Err(f), Some(code)) if f.code == code => {}
        (Ok(_), Some(code)) => fail(format!(
            "{}: expected {code}, but it was allowed{}",
            o.what,
            w.explain_last()
        )),
        (Err(f), None) => fail(format!(
            "{}: expected success, but it failed: {f}{}",
            o.what,
            w.explain_last()
        )),
        (Err(f), Some(code)) => fail(format!(
            "{}: expected {code}, but it failed with {f}{}",
            o.what,
            w.explain_last()
        )),
    }
}

async fn succeeds(w: &mut FerryWorld, _a: Args) {
    expect(w, None);
}

async fn denied(w: &mut FerryWorld, _a: Args) {
    expect(w, Some("AccessDenied"));
}

async fn fails_with(w: &mut FerryWorld, a: Args) {
    expect(w, Some(a.get(1)));
}

async fn outcome_is(w: &mut FerryWorld, a: Args) {
    match a.get(1) {
        "allowed" | "succeeds" => expect(w, None),
        "denied" => expect(w, Some("AccessDenied")),
        code => expect(w, Some(code)),
    }
}
