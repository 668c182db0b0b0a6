//! What each scenario created on real accounts, and its removal: after the scenario (passed
//! or failed) and, for scenarios cut short by Ctrl-C, at the end of the run. Removal is best
//! effort, newest first, as the account's administrator; something already gone (a scenario
//! that deleted it itself) is not an error, anything else is reported on stderr.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::accounts::Resolved;
use super::world::{clients_for, failure, Clients};

/// A resource a scenario created, with the alias of the account it lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// Emptied (objects, versions, multipart uploads) and deleted.
    Bucket {
        account: String,
        name: String,
    },
    User {
        account: String,
        name: String,
    },
    AccessKey {
        account: String,
        user: String,
        id: String,
    },
    UserPolicy {
        account: String,
        user: String,
        name: String,
    },
    AttachedUserPolicy {
        account: String,
        user: String,
        arn: String,
    },
    Role {
        account: String,
        name: String,
    },
    RolePolicy {
        account: String,
        role: String,
        name: String,
    },
    AttachedRolePolicy {
        account: String,
        role: String,
        arn: String,
    },
    Policy {
        account: String,
        arn: String,
    },
}

impl Resource {
    fn account(&self) -> &str {
        match self {
            Resource::Bucket { account, .. }
            | Resource::User { account, .. }
            | Resource::AccessKey { account, .. }
            | Resource::UserPolicy { account, .. }
            | Resource::AttachedUserPolicy { account, .. }
            | Resource::Role { account, .. }
            | Resource::RolePolicy { account, .. }
            | Resource::AttachedRolePolicy { account, .. }
            | Resource::Policy { account, .. } => account,
        }
    }
}

/// Resources by scenario, in creation order.
#[derive(Debug, Default)]
pub struct Registry {
    by_scenario: Mutex<BTreeMap<u64, Vec<Resource>>>,
}

impl Registry {
    pub fn add(&self, scenario: u64, r: Resource) {
        self.lock().entry(scenario).or_default().push(r);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Vec<Resource>>> {
        self.by_scenario.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resources still registered (tests check that nothing is left).
    pub fn pending(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    pub async fn clean_scenario(&self, scenario: u64, target: &Resolved) {
        let list = self.lock().remove(&scenario).unwrap_or_default();
        remove_all(list, target).await;
    }

    pub async fn clean_all(&self, target: &Resolved) {
        let all: Vec<Vec<Resource>> = std::mem::take(&mut *self.lock()).into_values().collect();
        for list in all {
            remove_all(list, target).await;
        }
    }
}

async fn remove_all(list: Vec<Resource>, target: &Resolved) {
    let Resolved::Aws { accounts, .. } = target else {
        return;
    };
    // Newest first; managed policies last (they can only go once nothing has them attached).
    let (policies, others): (Vec<Resource>, Vec<Resource>) = list
        .into_iter()
        .rev()
        .partition(|r| matches!(r, Resource::Policy { .. }));
    for r in others.into_iter().chain(policies) {
        let Some(a) = accounts.get(r.account()) else {
            continue;
        };
        let Some(creds) = a.sdk.credentials_provider() else {
            continue;
        };
        let c = clients_for(&a.sdk, creds, a.endpoint.is_some());
        if let Err(e) = remove(&c, &r).await {
            if !gone(&e) {
                eprintln!("ferry: cleanup: cannot remove {r:?}: {e}");
            }
        }
    }
}

fn gone(message: &str) -> bool {
    ["NoSuchEntity", "NoSuchBucket", "NotFound", "NoSuchKey"]
        .iter()
        .any(|c| message.starts_with(c))
}

async fn remove(c: &Clients, r: &Resource) -> Result<(), String> {
    let f = |e: String| e;
    match r {
        Resource::Bucket { name, .. } => empty_bucket(c, name).await.map_err(f)?,
        Resource::User { name, .. } => {
            // A create interrupted by Ctrl-C may have left keys or policies untracked.
            detach_all(c, Some(name), None).await;
            c.iam
                .delete_user()
                .user_name(name)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::AccessKey { user, id, .. } => {
            c.iam
                .delete_access_key()
                .user_name(user)
                .access_key_id(id)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::UserPolicy { user, name, .. } => {
            c.iam
                .delete_user_policy()
                .user_name(user)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::AttachedUserPolicy { user, arn, .. } => {
            c.iam
                .detach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::Role { name, .. } => {
            detach_all(c, None, Some(name)).await;
            c.iam
                .delete_role()
                .role_name(name)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::RolePolicy { role, name, .. } => {
            c.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::AttachedRolePolicy { role, arn, .. } => {
            c.iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
        Resource::Policy { arn, .. } => {
            c.iam
                .delete_policy()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| failure(&e).to_string())?;
        }
    }
    Ok(())
}

/// Deletes a user's access keys and inline policies and detaches its managed policies (or a
/// role's), so that the user or role itself can be deleted. Best effort.
async fn detach_all(c: &Clients, user: Option<&str>, role: Option<&str>) {
    if let Some(u) = user {
        if let Ok(keys) = c.iam.list_access_keys().user_name(u).send().await {
            for k in keys.access_key_metadata() {
                if let Some(id) = k.access_key_id() {
                    let _ = c
                        .iam
                        .delete_access_key()
                        .user_name(u)
                        .access_key_id(id)
                        .send()
                        .await;
                }
            }
        }
        if let Ok(p) = c.iam.list_user_policies().user_name(u).send().await {
            for name in p.policy_names() {
                let _ = c
                    .iam
                    .delete_user_policy()
                    .user_name(u)
                    .policy_name(name)
                    .send()
                    .await;
            }
        }
        if let Ok(p) = c
            .iam
            .list_attached_user_policies()
            .user_name(u)
            .send()
            .await
        {
            for arn in p.attached_policies().iter().filter_map(|a| a.policy_arn()) {
                let _ = c
                    .iam
                    .detach_user_policy()
                    .user_name(u)
                    .policy_arn(arn)
                    .send()
                    .await;
            }
        }
    }
    if let Some(r) = role {
        if let Ok(p) = c.iam.list_role_policies().role_name(r).send().await {
            for name in p.policy_names() {
                let _ = c
                    .iam
                    .delete_role_policy()
                    .role_name(r)
                    .policy_name(name)
                    .send()
                    .await;
            }
        }
        if let Ok(p) = c
            .iam
            .list_attached_role_policies()
            .role_name(r)
            .send()
            .await
        {
            for arn in p.attached_policies().iter().filter_map(|a| a.policy_arn()) {
                let _ = c
                    .iam
                    .detach_role_policy()
                    .role_name(r)
                    .policy_arn(arn)
                    .send()
                    .await;
            }
        }
    }
}

/// Deletes every object (and version, and multipart upload), then the bucket.
async fn empty_bucket(c: &Clients, bucket: &str) -> Result<(), String> {
    let s3 = &c.s3;
    let uploads = s3
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| failure(&e).to_string())?;
    for u in uploads.uploads() {
        if let (Some(k), Some(id)) = (u.key(), u.upload_id()) {
            let _ = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(k)
                .upload_id(id)
                .send()
                .await;
        }
    }
    let mut rounds = 0;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| failure(&e).to_string())?;
        let mut ids = Vec::new();
        for v in page.versions() {
            if let Some(k) = v.key() {
                let mut o = ObjectIdentifier::builder().key(k);
                if let Some(id) = v.version_id().filter(|id| *id != "null") {
                    o = o.version_id(id);
                }
                ids.extend(o.build().ok());
            }
        }
        for m in page.delete_markers() {
            if let Some(k) = m.key() {
                let mut o = ObjectIdentifier::builder().key(k);
                if let Some(id) = m.version_id().filter(|id| *id != "null") {
                    o = o.version_id(id);
                }
                ids.extend(o.build().ok());
            }
        }
        if ids.is_empty() {
            break;
        }
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| e.to_string())?;
        s3.delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| failure(&e).to_string())?;
        rounds += 1;
        if rounds > 1000 {
            return Err(format!("bucket `{bucket}` does not empty"));
        }
    }
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| failure(&e).to_string())?;
    Ok(())
}
