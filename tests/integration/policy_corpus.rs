//! Runs the JSON corpus of policy cases in `tests/policy_cases/`: each case names a principal,
//! an action, a resource, context keys and the policies that apply, with the expected decision
//! and (optionally) the statements that must decide it. All mismatches are reported together.
//!
//! Format (one file per topic):
//! ```json
//! { "description": "...", "source": "IAM User Guide: ...",
//!   "placeholders": { "A": "111111111111", "bucket": "data" },
//!   "policies": { "NAME": { "kind": "identity|session|boundary|bucket|resource|trust|any",
//!                           "document": { ...policy JSON... } or "file": "scenarios/..." } },
//!   "cases": [ { "name": "...", "principal": "arn:...", "role_arn": "arn:... (optional)",
//!                "tags": {"k": "v"}, "canonical_id": "...", "action": "s3:GetObject",
//!                "resource": "arn:aws:s3:::b/k", "resource_account": "111111111111",
//!                "context": {"s3:prefix": "a/" or ["v1", "v2"]},
//!                "identity": ["NAME"], "session": ["NAME"], "boundary": "NAME",
//!                "resource_policy": "NAME", "trust": false,
//!                "expect": "Allow|ExplicitDeny|ImplicitDeny",
//!                "deciding": ["NAME:SID", "NAME:#INDEX"] } ] }
//! ```
//! Files may also hold `"invalid"`: policies that must be refused, with a message fragment.

use std::collections::BTreeMap;
use std::path::Path;

use ferry::policy::{
    self, Context, Named, Policy, PolicyKind, PolicySet, Principal, Request, Value,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[allow(dead_code)]
    description: String,
    #[allow(dead_code)]
    source: String,
    /// Values for `${NAME}` placeholders in policy files (`${canonical:X}` is derived from `X`).
    #[serde(default)]
    placeholders: BTreeMap<String, String>,
    #[serde(default)]
    policies: BTreeMap<String, PolicyDef>,
    #[serde(default)]
    cases: Vec<Case>,
    #[serde(default)]
    invalid: Vec<Invalid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDef {
    kind: String,
    /// The document inline...
    #[serde(default)]
    document: Option<serde_json::Value>,
    /// ...or a file relative to the package root, with placeholders substituted.
    #[serde(default)]
    file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Invalid {
    name: String,
    kind: String,
    /// The document as JSON, or as raw text (for invalid JSON).
    document: serde_json::Value,
    error_contains: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: String,
    #[serde(default)]
    role_arn: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    canonical_id: Option<String>,
    action: String,
    resource: String,
    #[serde(default)]
    resource_account: Option<String>,
    #[serde(default)]
    context: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    identity: Vec<String>,
    #[serde(default)]
    session: Option<Vec<String>>,
    #[serde(default)]
    boundary: Option<String>,
    #[serde(default)]
    resource_policy: Option<String>,
    #[serde(default)]
    trust: bool,
    expect: String,
    #[serde(default)]
    deciding: Option<Vec<String>>,
}

pub fn kind(s: &str) -> PolicyKind {
    match s {
        "identity" | "boundary" => PolicyKind::Identity,
        "session" => PolicyKind::Session,
        "bucket" => PolicyKind::Bucket,
        "resource" => PolicyKind::Resource,
        "trust" => PolicyKind::Trust,
        "user-inline" => PolicyKind::UserInline,
        "role-inline" => PolicyKind::RoleInline,
        "managed" => PolicyKind::Managed,
        "any" => PolicyKind::Any,
        other => panic!("unknown policy kind `{other}`"),
    }
}

fn run_case(file: &str, policies: &BTreeMap<String, Policy>, c: &Case) -> Result<(), String> {
    let get = |n: &String| -> Result<Named<'_>, String> {
        policies
            .get_key_value(n)
            .map(|(k, p)| Named::new(k, p))
            .ok_or_else(|| format!("unknown policy `{n}`"))
    };
    let mut principal = Principal::from_arn(&c.principal)?;
    if let Some(r) = &c.role_arn {
        principal.role_arn = Some(r.clone());
    }
    if let Some(id) = &c.canonical_id {
        principal.canonical_id = Some(id.clone());
    }
    principal.tags = c.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut ctx = Context::for_principal(&principal);
    for (k, v) in &c.context {
        match v {
            OneOrMany::One(s) => {
                ctx.set(k, s.as_str());
            }
            OneOrMany::Many(vs) => {
                ctx.set_all(k, vs.iter().map(|s| Value::from(s.as_str())).collect());
            }
        }
    }
    let identity: Vec<Named<'_>> = c.identity.iter().map(get).collect::<Result<_, _>>()?;
    let session: Option<Vec<Named<'_>>> = match &c.session {
        Some(s) => Some(s.iter().map(get).collect::<Result<_, _>>()?),
        None => None,
    };
    let set = PolicySet {
        identity: &identity,
        session: session.as_deref(),
        boundary: c.boundary.as_ref().map(get).transpose()?,
        resource: c.resource_policy.as_ref().map(get).transpose()?,
        resource_must_allow: c.trust,
    };
    let resource_account = match &c.resource_account {
        Some(a) => Some(a.parse().map_err(|e| format!("{e}"))?),
        None => principal.account,
    };
    let req = Request {
        principal: &principal,
        action: &c.action,
        resource: &c.resource,
        resource_account,
        context: &ctx,
    };
    let resp = policy::authorize(&req, &set);
    let got = format!("{:?}", resp.decision);
    if got != c.expect {
        return Err(format!(
            "{file}: `{}`: expected {}, got {got} ({})",
            c.name,
            c.expect,
            resp.explain()
        ));
    }
    if let Some(want) = &c.deciding {
        let mut got: Vec<String> = resp
            .statements
            .iter()
            .map(|d| match d.sid.filter(|s| !s.is_empty()) {
                Some(s) => format!("{}:{s}", d.policy),
                None => format!("{}:#{}", d.policy, d.index),
            })
            .collect();
        got.sort();
        let mut want = want.clone();
        want.sort();
        if got != want {
            return Err(format!(
                "{file}: `{}`: deciding statements {got:?}, expected {want:?}",
                c.name
            ));
        }
    }
    Ok(())
}

#[test]
fn policy_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policy_cases");
    let mut failures = Vec::new();
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let file: CorpusFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut policies = BTreeMap::new();
        let lookup = |k: &str| {
            if let Some(acct) = k.strip_prefix("canonical:") {
                let id: ferry::types::AccountId = file.placeholders.get(acct)?.parse().ok()?;
                return Some(id.canonical_user_id());
            }
            file.placeholders.get(k).cloned()
        };
        for (pname, def) in &file.policies {
            let doc = match (&def.document, &def.file) {
                (Some(d), None) => serde_json::to_string(d).unwrap(),
                (None, Some(f)) => {
                    let raw =
                        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
                            .unwrap_or_else(|e| panic!("{name}: {f}: {e}"));
                    ferry::placeholders::substitute(&raw, lookup)
                }
                _ => panic!("{name}: policy `{pname}` needs exactly one of `document` and `file`"),
            };
            match policy::parse(&doc, kind(&def.kind)) {
                Ok(p) => {
                    policies.insert(pname.clone(), p);
                }
                Err(e) => failures.push(format!("{name}: policy `{pname}` refused: {e}")),
            }
        }
        for c in &file.cases {
            count += 1;
            if let Err(e) = run_case(&name, &policies, c) {
                failures.push(e);
            }
        }
        for inv in &file.invalid {
            count += 1;
            let text = match &inv.document {
                serde_json::Value::String(s) => s.clone(),
                other => serde_json::to_string(other).unwrap(),
            };
            match policy::parse(&text, kind(&inv.kind)) {
                Ok(_) => failures.push(format!("{name}: invalid `{}` was accepted", inv.name)),
                Err(e) if !e.message.contains(&inv.error_contains) => failures.push(format!(
                    "{name}: invalid `{}`: error `{}` lacks `{}`",
                    inv.name, e.message, inv.error_contains
                )),
                Err(_) => {}
            }
        }
    }
    assert!(count > 0, "no policy cases found in {}", dir.display());
    assert!(
        failures.is_empty(),
        "{} of {count} policy cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
