//! STS: assuming a role (session name, external ID, session policy) as a named principal, and
//! get-caller-identity.

use super::{step, Args, StepDef};
use crate::harness::world::{failure, static_creds, FerryWorld, Output, Principal};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            When,
            r#"^"([^"]+)" assumes role "([^"]+)" as session "([^"]+)"(?: with external ID "([^"]*)")?( with session policy:)?$"#,
            "AssumeRole (role by name from this scenario, or an ARN), optionally with an external ID and a session policy (the docstring). On success the session is a principal named after the session.",
            assume
        ),
        step!(
            When,
            r#"^"([^"]+)" calls get-caller-identity$"#,
            "sts get-caller-identity as the principal.",
            caller_identity
        ),
        step!(
            Then,
            r#"^the caller identity ARN is "([^"]+)"$"#,
            "The ARN get-caller-identity (or AssumeRole's AssumedRoleUser) returned.",
            arn_is
        ),
    ]
}

async fn assume(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let role_arn = w.role_arn(a.get(2));
    let session = a.get(3).to_owned();
    let c = w.clients(&who);
    let mut req = c
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(&session);
    if let Some(ext) = a.opt(4) {
        req = req.external_id(ext);
    }
    if a.opt(5).is_some() {
        req = req.policy(a.doc());
    }
    w.begin().await;
    let r = req.send().await;
    let account = role_arn.split(':').nth(4).unwrap_or_default().to_owned();
    let result = match r {
        Ok(out) => {
            let arn = out
                .assumed_role_user()
                .map(|u| u.arn().to_owned())
                .unwrap_or_default();
            if let Some(c) = out.credentials() {
                // The session acts in the role's account: the account whose ID is in the ARN.
                let alias = w
                    .accounts
                    .values()
                    .find(|x| x.id == account)
                    .map(|x| x.alias.clone())
                    .unwrap_or_else(|| w.principal(&who).account.clone());
                w.add_principal(
                    &session,
                    Principal {
                        account: alias,
                        creds: static_creds(
                            c.access_key_id(),
                            c.secret_access_key(),
                            Some(c.session_token()),
                        ),
                        arn: Some(arn.clone()),
                    },
                );
            }
            Ok(Output::Arn(arn))
        }
        Err(e) => Err(failure(&e)),
    };
    w.outcome(
        format!("\"{who}\": sts:AssumeRole {role_arn} as session {session}"),
        result,
    );
}

async fn caller_identity(w: &mut FerryWorld, a: Args) {
    let who = a.get(1).to_owned();
    let c = w.clients(&who);
    w.begin().await;
    let result = match c.sts.get_caller_identity().send().await {
        Ok(out) => Ok(Output::Arn(out.arn().unwrap_or_default().to_owned())),
        Err(e) => Err(failure(&e)),
    };
    w.outcome(format!("\"{who}\": sts:GetCallerIdentity"), result);
}

async fn arn_is(w: &mut FerryWorld, a: Args) {
    let o = w.last();
    match &o.result {
        Ok(Output::Arn(arn)) if arn == a.get(1) => {}
        Ok(Output::Arn(arn)) => crate::harness::world::fail(format!(
            "{}: the caller identity ARN is `{arn}`, expected `{}`",
            o.what,
            a.get(1)
        )),
        other => crate::harness::world::fail(format!(
            "{}: no caller identity to compare ({other:?})",
            o.what
        )),
    }
}
