//! STS over the query protocol: AssumeRole, GetCallerIdentity, GetSessionToken.
//!
//! AssumeRole is authorized as AWS documents it: the role's trust policy is a resource policy
//! that must itself allow, evaluated together with the caller's identity policies (same
//! account: a trust naming the caller suffices; naming only the account needs the identity
//! policy too; cross account: both). Root users cannot assume roles.

use std::sync::Arc;
use std::time::Duration;

use super::query::{iso8601, Params, QueryError, Xml};
use super::state::{Caller, Session, SessionKind};
use super::{ids, Emulator, RequestMeta};
use crate::policy::{PolicyKind, PrincipalKind};
use crate::types::AccountId;

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Handles one STS action; returns the `<ActionResult>` content.
pub fn handle(
    emu: &Emulator,
    caller: &Caller,
    action: &str,
    params: &Params,
    meta: &RequestMeta,
) -> Result<String, QueryError> {
    match action {
        "GetCallerIdentity" => Ok(get_caller_identity(caller)),
        "AssumeRole" => assume_role(emu, caller, params, meta),
        "GetSessionToken" => get_session_token(emu, caller, params),
        other => Err(QueryError::sender(
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
    }
}

fn get_caller_identity(caller: &Caller) -> String {
    let p = &caller.principal;
    let mut x = Xml::new();
    x.leaf("UserId", &p.user_id);
    x.leaf(
        "Account",
        &p.account.map(|a| a.to_string()).unwrap_or_default(),
    );
    x.leaf("Arn", &p.arn);
    x.finish()
}

/// `RoleSessionName`: 2–64 characters of `[\w+=,.@-]`.
pub fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

fn assume_role(
    emu: &Emulator,
    caller: &Caller,
    params: &Params,
    meta: &RequestMeta,
) -> Result<String, QueryError> {
    let role_arn = params.required("RoleArn")?.to_owned();
    let session_name = params.required("RoleSessionName")?.to_owned();
    if !valid_session_name(&session_name) {
        return Err(QueryError::sender(
            "ValidationError",
            format!("1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
        ));
    }
    if caller.principal.kind == PrincipalKind::Root {
        return Err(QueryError::access_denied(
            "Roles may not be assumed by root accounts.",
        ));
    }
    let duration: u64 = match params.get("DurationSeconds") {
        Some(d) => d.parse().map_err(|_| {
            QueryError::sender(
                "ValidationError",
                format!("`{d}` is not a valid DurationSeconds"),
            )
        })?,
        None => 3600,
    };
    if duration < 900 {
        return Err(QueryError::sender(
            "ValidationError",
            format!("1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"),
        ));
    }
    let denied = || {
        QueryError::access_denied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.principal.arn
        ))
    };
    let parts = crate::types::split_arn(&role_arn)
        .filter(|p| p[0] == "arn" && p[2] == "iam" && p[5].starts_with("role/"))
        .ok_or_else(|| {
            QueryError::sender(
                "ValidationError",
                format!("{role_arn} is invalid: RoleArn must be the ARN of an IAM role"),
            )
        })?;
    let role_account: AccountId = parts[4]
        .parse()
        .map_err(|_| QueryError::sender("ValidationError", format!("{role_arn} is invalid")))?;

    // Session policies are validated before anything else is decided.
    let mut session_policies = Vec::new();
    if let Some(text) = params.get("Policy") {
        let p = crate::policy::parse(text, PolicyKind::Session)
            .map_err(|e| QueryError::sender("MalformedPolicyDocument", e.message))?;
        session_policies.push(("session-policy".to_owned(), Arc::new(p)));
    }

    let state = emu.read();
    let role = state
        .account(role_account)
        .and_then(|a| a.roles.values().find(|r| r.arn == role_arn))
        .ok_or_else(denied)?
        .clone();
    for arn in params.members("PolicyArns", Some("arn")) {
        let p = state.managed(&arn).ok_or_else(|| {
            QueryError::sender(
                "InvalidParameterValue",
                format!("Policy {arn} does not exist or is not attachable."),
            )
        })?;
        session_policies.push(p);
    }
    let mut ctx = emu.context(caller, meta);
    if let Some(ext) = params.get("ExternalId") {
        ctx.set("sts:ExternalId", ext);
    }
    ctx.set("sts:RoleSessionName", session_name.as_str());
    if let Some(src) = params.get("SourceIdentity") {
        ctx.set("sts:SourceIdentity", src);
    }
    let verdict = emu.authorize(
        caller,
        "sts:AssumeRole",
        &role_arn,
        Some(role_account),
        &ctx,
        Some(("trust-policy", &role.trust.parsed)),
        true,
    );
    if !verdict.allowed() {
        return Err(denied());
    }
    let chained = caller.role_session;
    if chained && duration > 3600 {
        return Err(QueryError::sender(
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if duration > u64::from(role.max_session_duration) {
        return Err(QueryError::sender(
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    drop(state);

    let lifetime = cap(emu, Duration::from_secs(duration));
    let expires = emu.now() + lifetime;
    let packed = !session_policies.is_empty();
    let session = Session {
        account: role_account,
        kind: SessionKind::Role {
            role_name: role.name.clone(),
            role_path: role.path.clone(),
            role_id: role.id.clone(),
            session_name: session_name.clone(),
        },
        token: ids::session_token(),
        expires,
        policies: session_policies,
        chained,
    };
    let (key, secret, token) = emu.write().issue_session(session);
    let mut x = Xml::new();
    x.open("Credentials");
    x.leaf("AccessKeyId", &key);
    x.leaf("SecretAccessKey", &secret);
    x.leaf("SessionToken", &token);
    x.leaf("Expiration", &iso8601(expires));
    x.close("Credentials");
    x.open("AssumedRoleUser");
    x.leaf("AssumedRoleId", &format!("{}:{session_name}", role.id));
    x.leaf(
        "Arn",
        &format!(
            "arn:aws:sts::{role_account}:assumed-role/{}/{session_name}",
            role.name
        ),
    );
    x.close("AssumedRoleUser");
    if packed {
        x.leaf("PackedPolicySize", "6");
    }
    if let Some(src) = params.get("SourceIdentity") {
        x.leaf("SourceIdentity", src);
    }
    Ok(x.finish())
}

fn cap(emu: &Emulator, d: Duration) -> Duration {
    match emu.options.session_lifetime {
        Some(max) => d.min(max),
        None => d,
    }
}

fn get_session_token(
    emu: &Emulator,
    caller: &Caller,
    params: &Params,
) -> Result<String, QueryError> {
    let kind = match caller.principal.kind {
        PrincipalKind::Root => SessionKind::Root,
        PrincipalKind::User => SessionKind::User {
            user: caller.principal.username().unwrap_or_default().to_owned(),
        },
        _ => {
            return Err(QueryError::access_denied(
                "Cannot call GetSessionToken with session credentials",
            ))
        }
    };
    let max = if matches!(kind, SessionKind::Root) {
        3600
    } else {
        129_600
    };
    let duration: u64 = match params.get("DurationSeconds") {
        Some(d) => d.parse().map_err(|_| {
            QueryError::sender(
                "ValidationError",
                format!("`{d}` is not a valid DurationSeconds"),
            )
        })?,
        None => 43_200.min(max),
    };
    if !(900..=max).contains(&duration) {
        return Err(QueryError::sender(
            "ValidationError",
            format!("1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and {max}"),
        ));
    }
    let account = caller
        .principal
        .account
        .ok_or_else(|| QueryError::access_denied("anonymous callers cannot get session tokens"))?;
    let expires = emu.now() + cap(emu, Duration::from_secs(duration));
    let session = Session {
        account,
        kind,
        token: ids::session_token(),
        expires,
        policies: Vec::new(),
        chained: false,
    };
    let (key, secret, token) = emu.write().issue_session(session);
    let mut x = Xml::new();
    x.open("Credentials");
    x.leaf("AccessKeyId", &key);
    x.leaf("SecretAccessKey", &secret);
    x.leaf("SessionToken", &token);
    x.leaf("Expiration", &iso8601(expires));
    x.close("Credentials");
    Ok(x.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names() {
        assert!(valid_session_name("BenAWSCLI-Session"));
        assert!(valid_session_name("a.b@c=d,e+f_g"));
        assert!(!valid_session_name("x"));
        assert!(!valid_session_name("has space"));
        assert!(!valid_session_name(&"a".repeat(65)));
    }
}
