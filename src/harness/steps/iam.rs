//! IAM setup: users with access keys, roles with trust policies, inline and managed
//! policies; deleting them again within a scenario. Setup steps act as the account's
//! administrator and must succeed; each created resource is removed after the scenario.

use super::{step, Args, StepDef};
use crate::harness::cleanup::Resource;
use crate::harness::world::{
    fail, failure, static_creds, FerryWorld, IamEntity, Output, Principal,
};

pub fn steps() -> Vec<StepDef> {
    vec![
        step!(
            Given,
            r#"^(?:a )?user "([^"]+)" in account "([^"]+)"( with an access key)?$"#,
            "Creates an IAM user (named NAME-${run}); with an access key, the user is a principal named NAME.",
            create_user
        ),
        step!(
            Given,
            r#"^user "([^"]+)" has (?:an )?inline policy "([^"]+)":$"#,
            "Puts an inline policy (the docstring) on a user.",
            user_inline
        ),
        step!(
            Given,
            r#"^(?:a )?role "([^"]+)" in account "([^"]+)" with trust policy:$"#,
            "Creates a role (named NAME-${run}) with the docstring as its trust policy; ${role:NAME} is its ARN.",
            create_role
        ),
        step!(
            When,
            r#"^"([^"]+)" creates role "([^"]+)" with trust policy:$"#,
            "CreateRole as the principal (an action: check it with an outcome step, e.g. MalformedPolicyDocument for a trust policy naming a principal that does not exist).",
            create_role_action
        ),
        step!(
            Given,
            r#"^role "([^"]+)" has (?:an )?inline policy "([^"]+)":$"#,
            "Puts an inline policy (the docstring) on a role.",
            role_inline
        ),
        step!(
            Given,
            r#"^(?:a )?managed policy "([^"]+)" in account "([^"]+)":$"#,
            "Creates a customer managed policy (the docstring); ${policy:NAME} is its ARN.",
            create_policy
        ),
        step!(
            Given,
            r#"^managed policy "([^"]+)" is attached to (user|role) "([^"]+)"$"#,
            "Attaches a managed policy (by name from this scenario, or an ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess) to a user or role.",
            attach
        ),
        step!(
            When,
            r#"^the inline policy "([^"]+)" of (user|role) "([^"]+)" is deleted$"#,
            "Deletes an inline policy of a user or role (as the administrator).",
            delete_inline
        ),
        step!(
            When,
            r#"^managed policy "([^"]+)" is detached from (user|role) "([^"]+)"$"#,
            "Detaches a managed policy from a user or role (as the administrator).",
            detach
        ),
        step!(
            When,
            r#"^user "([^"]+)" is deleted$"#,
            "Deletes a user with its access keys and policies (a user created again under the same name is a new principal).",
            delete_user
        ),
    ]
}

fn check<T, E>(what: &str, r: Result<T, aws_sdk_s3::error::SdkError<E>>) -> T
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(v) => v,
        Err(e) => fail(format!("setup failed: {what}: {}", failure(&e))),
    }
}

fn user(w: &FerryWorld, name: &str) -> IamEntity {
    match w.users.get(name) {
        Some(u) => u.clone(),
        None => fail(format!("no user `{name}` in this scenario")),
    }
}

fn role(w: &FerryWorld, name: &str) -> IamEntity {
    match w.roles.get(name) {
        Some(r) => r.clone(),
        None => fail(format!("no role `{name}` in this scenario")),
    }
}

async fn create_user(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("create user");
    let (logical, alias) = (a.get(1).to_owned(), a.get(2).to_owned());
    let name = w.iam_name(&logical);
    let iam = w.admin(&alias).iam;
    // Registered before it exists, so an interrupted create is still removed.
    w.created(Resource::User {
        account: alias.clone(),
        name: name.clone(),
    });
    let out = check(
        &format!("iam create-user {name}"),
        iam.create_user().user_name(&name).send().await,
    );
    let arn = out.user().map(|u| u.arn().to_owned()).unwrap_or_default();
    w.users.insert(
        logical.clone(),
        IamEntity {
            account: alias.clone(),
            name: name.clone(),
            arn: arn.clone(),
        },
    );
    if a.opt(3).is_some() {
        let key = check(
            &format!("iam create-access-key {name}"),
            iam.create_access_key().user_name(&name).send().await,
        );
        let Some(k) = key.access_key() else {
            fail("iam create-access-key returned no key")
        };
        w.created(Resource::AccessKey {
            account: alias.clone(),
            user: name.clone(),
            id: k.access_key_id().to_owned(),
        });
        w.add_principal(
            &logical,
            Principal {
                account: alias,
                creds: static_creds(k.access_key_id(), k.secret_access_key(), None),
                arn: Some(arn),
            },
        );
    }
}

async fn user_inline(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("put user policy");
    let u = user(w, a.get(1));
    let policy = a.get(2).to_owned();
    check(
        &format!("iam put-user-policy {} {policy}", u.name),
        w.admin(&u.account)
            .iam
            .put_user_policy()
            .user_name(&u.name)
            .policy_name(&policy)
            .policy_document(a.doc())
            .send()
            .await,
    );
    w.created(Resource::UserPolicy {
        account: u.account,
        user: u.name,
        name: policy,
    });
}

async fn create_role(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("create role");
    let (logical, alias) = (a.get(1).to_owned(), a.get(2).to_owned());
    let name = w.iam_name(&logical);
    w.created(Resource::Role {
        account: alias.clone(),
        name: name.clone(),
    });
    let out = check(
        &format!("iam create-role {name}"),
        w.admin(&alias)
            .iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(a.doc())
            .send()
            .await,
    );
    let arn = out.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    w.roles.insert(
        logical,
        IamEntity {
            account: alias,
            name,
            arn,
        },
    );
}

async fn create_role_action(w: &mut FerryWorld, a: Args) {
    w.provisioning("create role");
    let who = a.get(1).to_owned();
    let logical = a.get(2).to_owned();
    let name = w.iam_name(&logical);
    let alias = w.principal(&who).account.clone();
    let c = w.clients(&who);
    w.created(Resource::Role {
        account: alias.clone(),
        name: name.clone(),
    });
    w.begin().await;
    let r = c
        .iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(a.doc())
        .send()
        .await;
    let result = match r {
        Ok(out) => {
            let arn = out.role().map(|r| r.arn().to_owned()).unwrap_or_default();
            w.roles.insert(
                logical,
                IamEntity {
                    account: alias,
                    name: name.clone(),
                    arn,
                },
            );
            Ok(Output::Nothing)
        }
        Err(e) => Err(failure(&e)),
    };
    w.outcome(format!("\"{who}\": iam:CreateRole {name}"), result);
    w.changed();
}

async fn role_inline(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("put role policy");
    let r = role(w, a.get(1));
    let policy = a.get(2).to_owned();
    check(
        &format!("iam put-role-policy {} {policy}", r.name),
        w.admin(&r.account)
            .iam
            .put_role_policy()
            .role_name(&r.name)
            .policy_name(&policy)
            .policy_document(a.doc())
            .send()
            .await,
    );
    w.created(Resource::RolePolicy {
        account: r.account,
        role: r.name,
        name: policy,
    });
}

async fn create_policy(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("create policy");
    let (logical, alias) = (a.get(1).to_owned(), a.get(2).to_owned());
    let name = w.iam_name(&logical);
    let planned = format!("arn:aws:iam::{}:policy/{name}", w.account(&alias).id);
    w.created(Resource::Policy {
        account: alias.clone(),
        arn: planned,
    });
    let out = check(
        &format!("iam create-policy {name}"),
        w.admin(&alias)
            .iam
            .create_policy()
            .policy_name(&name)
            .policy_document(a.doc())
            .send()
            .await,
    );
    let arn = out
        .policy()
        .and_then(|p| p.arn())
        .unwrap_or_default()
        .to_owned();
    w.policies.insert(
        logical,
        IamEntity {
            account: alias,
            name,
            arn,
        },
    );
}

fn policy_arn(w: &FerryWorld, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_owned();
    }
    match w.policies.get(name) {
        Some(p) => p.arn.clone(),
        None => fail(format!("no managed policy `{name}` in this scenario")),
    }
}

async fn attach(w: &mut FerryWorld, a: Args) {
    w.changed();
    w.provisioning("attach policy");
    let arn = policy_arn(w, a.get(1));
    if a.get(2) == "user" {
        let u = user(w, a.get(3));
        check(
            &format!("iam attach-user-policy {}", u.name),
            w.admin(&u.account)
                .iam
                .attach_user_policy()
                .user_name(&u.name)
                .policy_arn(&arn)
                .send()
                .await,
        );
        w.created(Resource::AttachedUserPolicy {
            account: u.account,
            user: u.name,
            arn,
        });
    } else {
        let r = role(w, a.get(3));
        check(
            &format!("iam attach-role-policy {}", r.name),
            w.admin(&r.account)
                .iam
                .attach_role_policy()
                .role_name(&r.name)
                .policy_arn(&arn)
                .send()
                .await,
        );
        w.created(Resource::AttachedRolePolicy {
            account: r.account,
            role: r.name,
            arn,
        });
    }
}

async fn delete_inline(w: &mut FerryWorld, a: Args) {
    w.changed();
    let policy = a.get(1);
    if a.get(2) == "user" {
        let u = user(w, a.get(3));
        check(
            &format!("iam delete-user-policy {} {policy}", u.name),
            w.admin(&u.account)
                .iam
                .delete_user_policy()
                .user_name(&u.name)
                .policy_name(policy)
                .send()
                .await,
        );
    } else {
        let r = role(w, a.get(3));
        check(
            &format!("iam delete-role-policy {} {policy}", r.name),
            w.admin(&r.account)
                .iam
                .delete_role_policy()
                .role_name(&r.name)
                .policy_name(policy)
                .send()
                .await,
        );
    }
}

async fn detach(w: &mut FerryWorld, a: Args) {
    w.changed();
    let arn = policy_arn(w, a.get(1));
    if a.get(2) == "user" {
        let u = user(w, a.get(3));
        check(
            &format!("iam detach-user-policy {}", u.name),
            w.admin(&u.account)
                .iam
                .detach_user_policy()
                .user_name(&u.name)
                .policy_arn(&arn)
                .send()
                .await,
        );
    } else {
        let r = role(w, a.get(3));
        check(
            &format!("iam detach-role-policy {}", r.name),
            w.admin(&r.account)
                .iam
                .detach_role_policy()
                .role_name(&r.name)
                .policy_arn(&arn)
                .send()
                .await,
        );
    }
}

async fn delete_user(w: &mut FerryWorld, a: Args) {
    w.changed();
    let logical = a.get(1).to_owned();
    let u = user(w, &logical);
    let iam = w.admin(&u.account).iam;
    let keys = check(
        "iam list-access-keys",
        iam.list_access_keys().user_name(&u.name).send().await,
    );
    for k in keys.access_key_metadata() {
        if let Some(id) = k.access_key_id() {
            check(
                "iam delete-access-key",
                iam.delete_access_key()
                    .user_name(&u.name)
                    .access_key_id(id)
                    .send()
                    .await,
            );
        }
    }
    let inline = check(
        "iam list-user-policies",
        iam.list_user_policies().user_name(&u.name).send().await,
    );
    for p in inline.policy_names() {
        check(
            "iam delete-user-policy",
            iam.delete_user_policy()
                .user_name(&u.name)
                .policy_name(p)
                .send()
                .await,
        );
    }
    let attached = check(
        "iam list-attached-user-policies",
        iam.list_attached_user_policies()
            .user_name(&u.name)
            .send()
            .await,
    );
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            check(
                "iam detach-user-policy",
                iam.detach_user_policy()
                    .user_name(&u.name)
                    .policy_arn(arn)
                    .send()
                    .await,
            );
        }
    }
    check(
        &format!("iam delete-user {}", u.name),
        iam.delete_user().user_name(&u.name).send().await,
    );
    w.forget(&logical);
    w.users.remove(&logical);
}
