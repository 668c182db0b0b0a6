//! `ferry explain` end to end: the binary's output and exit codes.

use std::path::PathBuf;
use std::process::Command;

fn ferry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ferry-explain-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const BUCKET_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"111","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/AccountBadmin"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket1/*"},
  {"Sid":"112","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:user/AccountBadmin"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket1/*",
   "Condition":{"StringNotEquals":{"s3:x-amz-grant-full-control":"id=abc"}}}]}"#;
const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

#[test]
fn allowed_exits_zero_and_names_statements() {
    let d = tempdir("allow");
    let bp = write(&d, "bucket.json", BUCKET_POLICY);
    let admin = write(&d, "admin.json", ADMIN);
    let out = ferry()
        .args([
            "explain",
            "--principal",
            "arn:aws:iam::222222222222:user/AccountBadmin",
        ])
        .args([
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::bucket1/HappyFace.jpg",
        ])
        .args([
            "--resource-account",
            "111111111111",
            "--context",
            "s3:x-amz-grant-full-control=id=abc",
        ])
        .arg("--identity-policy")
        .arg(&admin)
        .arg("--resource-policy")
        .arg(&bp)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("Allow"), "{stdout}");
    assert!(stdout.contains("statement `111`"), "{stdout}");
}

#[test]
fn denied_exits_one_with_the_deny_statement() {
    let d = tempdir("deny");
    let bp = write(&d, "bucket.json", BUCKET_POLICY);
    let admin = write(&d, "admin.json", ADMIN);
    let out = ferry()
        .args([
            "explain",
            "--principal",
            "arn:aws:iam::222222222222:user/AccountBadmin",
        ])
        .args([
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::bucket1/HappyFace.jpg",
        ])
        .args(["--resource-account", "111111111111", "--json"])
        .arg("--identity-policy")
        .arg(&admin)
        .arg("--resource-policy")
        .arg(&bp)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "ExplicitDeny");
    assert_eq!(v["statements"][0]["sid"], "112");
}

#[test]
fn same_account_denial_shows_awss_message() {
    let d = tempdir("msg");
    let admin = write(
        &d,
        "read.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let out = ferry()
        .args([
            "explain",
            "--principal",
            "arn:aws:iam::111111111111:user/alice",
        ])
        .args(["--action", "s3:PutObject", "--resource", "arn:aws:s3:::b/k"])
        .arg("--identity-policy")
        .arg(&admin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("ImplicitDeny"), "{stdout}");
    assert!(
        stdout.contains("User: arn:aws:iam::111111111111:user/alice is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::b/k\" because no identity-based policy allows the s3:PutObject action"),
        "{stdout}"
    );
}

#[test]
fn malformed_policy_exits_two_with_location() {
    let d = tempdir("bad");
    let bad = write(
        &d,
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#,
    );
    let out = ferry()
        .args([
            "explain",
            "--principal",
            "arn:aws:iam::111111111111:root",
            "--action",
            "s3:GetObject",
        ])
        .args(["--resource", "*", "--identity-policy"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("no service prefix"), "{stderr}");
    assert!(stderr.contains("/Statement/0/Action"), "{stderr}");
}

#[test]
fn bad_principal_and_missing_file_exit_two() {
    let out = ferry()
        .args([
            "explain",
            "--principal",
            "bob",
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`bob`"));
    let out = ferry()
        .args([
            "explain",
            "--principal",
            "anonymous",
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ])
        .args(["--resource-policy", "/nonexistent/policy.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read policy file"));
}

#[test]
fn help_lists_only_built_commands() {
    let out = ferry().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("explain"), "{help}");
    assert!(help.contains("serve"), "{help}");
    assert!(help.contains("copy"), "{help}");
    assert!(
        help.lines().any(|l| l.trim_start().starts_with("sync")),
        "{help}"
    );
    for missing in ["check", "demo"] {
        assert!(
            !help.lines().any(|l| l.trim_start().starts_with(missing)),
            "`{missing}` is listed but not built:\n{help}"
        );
    }
}
