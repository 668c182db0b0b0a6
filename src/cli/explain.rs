//! `ferry explain`: one authorization decision from the command line.
//!
//! Reads policy files, builds the principal from its ARN and the request context from
//! `--context KEY=VALUE`, calls [`crate::policy::authorize`] and prints the decision with the
//! statements that decided it. Exit code 0 when allowed, 1 when denied, 2 on bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Args;

use crate::policy::{self, Context, Named, Policy, PolicyKind, PolicySet, Principal, Request};
use crate::types::AccountId;

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  ferry explain --principal arn:aws:sts::222222222222:assumed-role/reader/s1 \\\n    --action s3:GetObject --resource arn:aws:s3:::data/report.csv --resource-account 111111111111 \\\n    --identity-policy reader.json --resource-policy bucket.json"
)]
pub struct ExplainArgs {
    /// The caller: `arn:aws:iam::ID:root`, `arn:aws:iam::ID:user/NAME`,
    /// `arn:aws:sts::ID:assumed-role/ROLE/SESSION`, a service such as `s3.amazonaws.com`,
    /// or `anonymous`.
    #[arg(long)]
    pub principal: String,
    /// The role ARN (with its path) of a role session, if the path is not `/`.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The action, such as `s3:GetObject`.
    #[arg(long)]
    pub action: String,
    /// The resource ARN, such as `arn:aws:s3:::bucket/key` (or `*`).
    #[arg(long)]
    pub resource: String,
    /// The account owning the resource (default: the ARN's account field, else the caller's).
    #[arg(long, value_name = "ID")]
    pub resource_account: Option<String>,
    /// An identity-based policy of the caller (repeatable).
    #[arg(long = "identity-policy", value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// A session policy passed to AssumeRole (repeatable; one of them must allow).
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session: Vec<PathBuf>,
    /// The caller's permissions boundary.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// The resource-based policy (for example a bucket policy).
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// Treat the resource policy as a role trust policy, which must allow even in the same account.
    #[arg(long)]
    pub trust: bool,
    /// A request condition key (repeat a key for a multi-valued key): `s3:prefix=home/`.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// A principal tag: `team=data`.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// The caller account's canonical user ID (for `CanonicalUser` principals).
    #[arg(long, value_name = "HEX")]
    pub canonical_id: Option<String>,
    /// A placeholder value for policy files and arguments: `bucket=data` replaces `${bucket}`.
    /// `${A}`, `${B}`, `${C}` default to the emulator's accounts 111111111111, 222222222222 and
    /// 333333333333; `${canonical:X}` is account X's canonical user ID.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Placeholder values: the defaults for the emulator's accounts, then `--var` overrides.
struct Placeholders(Vec<(String, String)>);

impl Placeholders {
    fn new(vars: &[String]) -> Result<Placeholders> {
        let mut v: Vec<(String, String)> = vec![
            ("A".into(), "111111111111".into()),
            ("B".into(), "222222222222".into()),
            ("C".into(), "333333333333".into()),
        ];
        for kv in vars {
            let (k, val) = split_kv(kv, "--var")?;
            v.retain(|(name, _)| *name != k);
            v.push((k, val));
        }
        Ok(Placeholders(v))
    }

    fn get(&self, name: &str) -> Option<String> {
        if let Some(acct) = name.strip_prefix("canonical:") {
            let id: AccountId = self.get(acct)?.parse().ok()?;
            return Some(id.canonical_user_id());
        }
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn apply(&self, text: &str) -> String {
        crate::placeholders::substitute(text, |k| self.get(k))
    }
}

fn load(path: &PathBuf, kind: PolicyKind, vars: &Placeholders) -> Result<Policy> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read policy file `{}`", path.display()))?;
    policy::parse(&vars.apply(&text), kind).map_err(|e| {
        let at = if e.pointer.is_empty() {
            String::new()
        } else {
            format!(" (at {})", e.pointer)
        };
        anyhow::anyhow!(
            "malformed policy in `{}`: {}{at}",
            path.display(),
            e.message
        )
    })
}

fn split_kv(s: &str, what: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => bail!("{what} `{s}` is not KEY=VALUE"),
    }
}

pub fn run(args: &ExplainArgs) -> Result<ExitCode> {
    let vars = Placeholders::new(&args.vars)?;
    let principal_arn = vars.apply(&args.principal);
    let action = vars.apply(&args.action);
    let resource_arn = vars.apply(&args.resource);
    let mut principal = Principal::from_arn(&principal_arn).map_err(anyhow::Error::msg)?;
    if let Some(role_arn) = &args.role_arn {
        if principal.role_arn.is_none() {
            bail!("--role-arn applies only to role sessions (assumed-role ARNs)");
        }
        principal.role_arn = Some(role_arn.clone());
    }
    if let Some(c) = &args.canonical_id {
        principal.canonical_id = Some(c.to_ascii_lowercase());
    }
    for t in &args.tags {
        principal.tags.push(split_kv(t, "--tag")?);
    }

    let identity: Vec<(String, Policy)> = args
        .identity
        .iter()
        .map(|p| {
            Ok((
                p.display().to_string(),
                load(p, PolicyKind::Identity, &vars)?,
            ))
        })
        .collect::<Result<_>>()?;
    let session: Vec<(String, Policy)> = args
        .session
        .iter()
        .map(|p| {
            Ok((
                p.display().to_string(),
                load(p, PolicyKind::Session, &vars)?,
            ))
        })
        .collect::<Result<_>>()?;
    let boundary = match &args.boundary {
        Some(p) => Some((
            p.display().to_string(),
            load(p, PolicyKind::Identity, &vars)?,
        )),
        None => None,
    };
    let resource_kind = if args.trust {
        PolicyKind::Trust
    } else {
        PolicyKind::Resource
    };
    let resource = match &args.resource_policy {
        Some(p) => Some((p.display().to_string(), load(p, resource_kind, &vars)?)),
        None => None,
    };

    let resource_account: Option<AccountId> = match &args.resource_account {
        Some(a) => Some(vars.apply(a).parse()?),
        None => crate::types::split_arn(&resource_arn)
            .and_then(|p| p[4].parse().ok())
            .or(principal.account),
    };

    let mut ctx = Context::for_principal(&principal);
    let now = chrono::Utc::now();
    ctx.set(
        "aws:CurrentTime",
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    ctx.set("aws:EpochTime", policy::Value::Num(now.timestamp() as f64));
    let mut seen = std::collections::HashSet::new();
    for kv in &args.context {
        let (k, v) = split_kv(&vars.apply(kv), "--context")?;
        if seen.insert(k.to_ascii_lowercase()) {
            ctx.set(&k, v);
        } else {
            ctx.add(&k, v);
        }
    }

    let identity_named: Vec<Named<'_>> = identity.iter().map(|(n, p)| Named::new(n, p)).collect();
    let session_named: Vec<Named<'_>> = session.iter().map(|(n, p)| Named::new(n, p)).collect();
    let set = PolicySet {
        identity: &identity_named,
        session: (!session_named.is_empty()).then_some(session_named.as_slice()),
        boundary: boundary.as_ref().map(|(n, p)| Named::new(n, p)),
        resource: resource.as_ref().map(|(n, p)| Named::new(n, p)),
        resource_must_allow: args.trust,
    };
    let req = Request {
        principal: &principal,
        action: &action,
        resource: &resource_arn,
        resource_account,
        context: &ctx,
    };
    let response = policy::authorize(&req, &set);

    if args.json {
        let out = serde_json::json!({
            "decision": response.decision,
            "reason": response.reason,
            "cross_account": response.cross_account,
            "explanation": response.explain(),
            "statements": response.statements,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{:?}", response.decision);
        println!("  {}", response.explain());
        if !response.allowed() {
            let who = if principal.arn.is_empty() {
                "anonymous"
            } else {
                principal.arn.as_str()
            };
            if response.cross_account {
                println!("  AWS would answer: Access Denied");
            } else {
                println!(
                    "  AWS would answer: User: {who} is not authorized to perform: {} on resource: \"{}\" {}",
                    action,
                    resource_arn,
                    response.because(&action)
                );
            }
        }
        match resource_account {
            Some(a) if args.resource_account.is_none() => {
                println!("  (resource account taken as {a}; set --resource-account to change it)")
            }
            _ => {}
        }
    }
    Ok(if response.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
