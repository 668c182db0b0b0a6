//! Pure tables for S3 authorization: the known `s3:` actions (for bucket-policy validation)
//! and the condition keys a request carries.

use http::HeaderMap;

use crate::policy::Context;

/// The `s3:` actions of the Service Authorization Reference (bucket and object level, plus
/// account-level ones such as `ListAllMyBuckets`). Bucket policies naming anything else are
/// refused with `MalformedPolicy: Policy has invalid action`.
pub const S3_ACTIONS: &[&str] = &[
    "AbortMultipartUpload",
    "BypassGovernanceRetention",
    "CreateAccessPoint",
    "CreateBucket",
    "CreateJob",
    "CreateMultiRegionAccessPoint",
    "DeleteAccessPoint",
    "DeleteAccessPointPolicy",
    "DeleteBucket",
    "DeleteBucketOwnershipControls",
    "DeleteBucketPolicy",
    "DeleteBucketWebsite",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjectVersion",
    "DeleteObjectVersionTagging",
    "DescribeJob",
    "GetAccelerateConfiguration",
    "GetAccessPoint",
    "GetAccessPointPolicy",
    "GetAccountPublicAccessBlock",
    "GetAnalyticsConfiguration",
    "GetBucketAcl",
    "GetBucketCORS",
    "GetBucketLocation",
    "GetBucketLogging",
    "GetBucketNotification",
    "GetBucketObjectLockConfiguration",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketPolicyStatus",
    "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetBucketWebsite",
    "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration",
    "GetInventoryConfiguration",
    "GetLifecycleConfiguration",
    "GetMetricsConfiguration",
    "GetObject",
    "GetObjectAcl",
    "GetObjectAttributes",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "GetObjectTorrent",
    "GetObjectVersion",
    "GetObjectVersionAcl",
    "GetObjectVersionAttributes",
    "GetObjectVersionForReplication",
    "GetObjectVersionTagging",
    "GetObjectVersionTorrent",
    "GetReplicationConfiguration",
    "ListAccessPoints",
    "ListAllMyBuckets",
    "ListBucket",
    "ListBucketMultipartUploads",
    "ListBucketVersions",
    "ListJobs",
    "ListMultipartUploadParts",
    "ObjectOwnerOverrideToBucketOwner",
    "PutAccelerateConfiguration",
    "PutAccessPointPolicy",
    "PutAccountPublicAccessBlock",
    "PutAnalyticsConfiguration",
    "PutBucketAcl",
    "PutBucketCORS",
    "PutBucketLogging",
    "PutBucketNotification",
    "PutBucketObjectLockConfiguration",
    "PutBucketOwnershipControls",
    "PutBucketPolicy",
    "PutBucketPublicAccessBlock",
    "PutBucketRequestPayment",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutBucketWebsite",
    "PutEncryptionConfiguration",
    "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration",
    "PutLifecycleConfiguration",
    "PutMetricsConfiguration",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "PutObjectVersionAcl",
    "PutObjectVersionTagging",
    "PutReplicationConfiguration",
    "ReplicateDelete",
    "ReplicateObject",
    "ReplicateTags",
    "RestoreObject",
    "UpdateJobPriority",
    "UpdateJobStatus",
];

/// Whether an action pattern from a bucket policy names at least one S3 action.
pub fn known_action(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some((service, name)) = pattern.split_once(':') else {
        return false;
    };
    if !service.eq_ignore_ascii_case("s3") {
        return false;
    }
    let p = crate::policy::pattern::Pattern::wildcard(name);
    S3_ACTIONS
        .iter()
        .any(|a| p.matches_ignore_case(a, &crate::policy::pattern::NoVars))
}

/// The ARN of a bucket, or of an object in it.
pub fn arn(bucket: &str, key: Option<&str>) -> String {
    match key {
        Some(k) => format!("arn:aws:s3:::{bucket}/{k}"),
        None => format!("arn:aws:s3:::{bucket}"),
    }
}

/// Adds the S3 condition keys found in request headers: `s3:x-amz-acl`, `s3:x-amz-grant-*`,
/// `s3:x-amz-server-side-encryption(-aws-kms-key-id)`, `s3:x-amz-storage-class`,
/// `s3:x-amz-copy-source`, `s3:x-amz-metadata-directive`, `s3:x-amz-content-sha256`,
/// `s3:RequestObjectTag/*` and `s3:RequestObjectTagKeys` (from `x-amz-tagging`).
pub fn header_keys(ctx: &mut Context, headers: &HeaderMap) {
    const DIRECT: &[(&str, &str)] = &[
        ("x-amz-acl", "s3:x-amz-acl"),
        ("x-amz-grant-read", "s3:x-amz-grant-read"),
        ("x-amz-grant-write", "s3:x-amz-grant-write"),
        ("x-amz-grant-read-acp", "s3:x-amz-grant-read-acp"),
        ("x-amz-grant-write-acp", "s3:x-amz-grant-write-acp"),
        ("x-amz-grant-full-control", "s3:x-amz-grant-full-control"),
        (
            "x-amz-server-side-encryption",
            "s3:x-amz-server-side-encryption",
        ),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            "s3:x-amz-server-side-encryption-aws-kms-key-id",
        ),
        ("x-amz-storage-class", "s3:x-amz-storage-class"),
        ("x-amz-copy-source", "s3:x-amz-copy-source"),
        ("x-amz-metadata-directive", "s3:x-amz-metadata-directive"),
        ("x-amz-content-sha256", "s3:x-amz-content-sha256"),
        ("x-amz-object-ownership", "s3:x-amz-object-ownership"),
    ];
    // One pass over the request's headers (a dozen or so) rather than a lookup per key; the
    // first value of a repeated header counts, as `HeaderMap::get` would give it.
    let mut seen = 0u16;
    let mut tagging = None;
    for (name, value) in headers {
        let name = name.as_str();
        if !name.starts_with("x-amz-") {
            continue;
        }
        if name == "x-amz-tagging" {
            tagging = tagging.or(Some(value));
            continue;
        }
        let Some(i) = DIRECT.iter().position(|(h, _)| *h == name) else {
            continue;
        };
        if seen & (1 << i) != 0 {
            continue;
        }
        seen |= 1 << i;
        if let Ok(v) = value.to_str() {
            ctx.set(DIRECT[i].1, v);
        }
    }
    if let Some(tagging) = tagging.and_then(|v| v.to_str().ok()) {
        let tags = parse_tagging(tagging);
        for (k, v) in &tags {
            ctx.set(&format!("s3:RequestObjectTag/{k}"), v.as_str());
        }
        ctx.set_all(
            "s3:RequestObjectTagKeys",
            tags.into_iter().map(|(k, _)| k.into()).collect(),
        );
    }
}

/// Parses the `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded).
pub fn parse_tagging(s: &str) -> Vec<(String, String)> {
    let params = super::super::query::Params::parse(&[s.as_bytes()]);
    let mut out = Vec::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, _) = pair.split_once('=').unwrap_or((pair, ""));
        let k = super::super::query::form_decode(k.as_bytes());
        let v = params.get(&k).unwrap_or_default().to_owned();
        out.push((k, v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert!(known_action("s3:GetObject"));
        assert!(known_action("s3:getobject"));
        assert!(known_action("s3:Get*"));
        assert!(known_action("s3:*"));
        assert!(!known_action("s3:GetObjekt"));
        assert!(!known_action("iam:GetUser"));
    }

    #[test]
    fn tagging() {
        assert_eq!(
            parse_tagging("team=data&env=prod%20eu"),
            vec![
                ("team".into(), "data".into()),
                ("env".into(), "prod eu".into())
            ]
        );
    }
}
