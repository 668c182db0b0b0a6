//! Accounts and existing resources: `Given accounts "A", "B" and "C"`, existing principals,
//! buckets and roles (for `@verify` scenarios that create nothing).

use super::{quoted, step, Args, StepDef};
use crate::harness::world::{BucketRef, FerryWorld, IamEntity};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            r#"^accounts? ((?:"[^"]+"(?:, | and )?)+)$"#,
            "Declares accounts by alias: their IDs and canonical IDs are resolved, and each alias names the account's administrator as a principal (the root user on the emulator, the accounts file's profile or role on AWS).",
            declare
        ),
        step!(
            Given,
            r#"^the existing principal "([^"]+)" of account "([^"]+)"$"#,
            "An identity that already exists: a user of the emulator's world file (its first access key), or [principals.NAME] of the accounts file.",
            existing_principal
        ),
        step!(
            Given,
            r#"^the existing bucket "([^"]+)" in account "([^"]+)"$"#,
            "A bucket that already exists, by its real name (not created, not removed).",
            existing_bucket
        ),
        step!(
            Given,
            r#"^the existing role "([^"]+)" in account "([^"]+)"$"#,
            "A role that already exists, by its real name; ${role:NAME} is its ARN.",
            existing_role
        ),
    ]
}

async fn declare(w: &mut FerryWorld, a: Args) {
    for alias in quoted(a.get(1)) {
        w.declare_account(&alias).await;
    }
}

async fn existing_principal(w: &mut FerryWorld, a: Args) {
    w.account(a.get(2));
    w.declare_existing_principal(a.get(1), a.get(2));
}

async fn existing_bucket(w: &mut FerryWorld, a: Args) {
    w.account(a.get(2));
    let name = a.get(1).to_owned();
    w.buckets.insert(
        name.clone(),
        BucketRef {
            account: a.get(2).to_owned(),
            name: name.clone(),
        },
    );
    w.last_bucket = Some(name);
}

async fn existing_role(w: &mut FerryWorld, a: Args) {
    let id = w.account(a.get(2)).id.clone();
    let name = a.get(1).to_owned();
    w.roles.insert(
        name.clone(),
        IamEntity {
            account: a.get(2).to_owned(),
            arn: format!("arn:aws:iam::{id}:role/{name}"),
            name,
        },
    );
}
