//! `ferry check` end to end: the binary against the emulator target, and `--target aws` against
//! an emulator served in process (profiles in a temporary AWS config, the endpoint overridden).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferry::emu::{Options, World};

use crate::support::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferry-check-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `ferry check ARGS` with no AWS settings of the caller's environment.
fn check_cmd(args: &[&str], aws_dir: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.arg("check").args(args).current_dir(root());
    for v in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(v);
    }
    if let Some(d) = aws_dir {
        cmd.env("AWS_CONFIG_FILE", d.join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", d.join("credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true");
    }
    cmd
}

fn check(args: &[&str]) -> Output {
    check_cmd(args, None).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn list_steps_prints_the_vocabulary() {
    let o = check(&["--list-steps"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "accounts?",
        "assumes role",
        "puts object",
        "it is denied",
        "it fails with",
        "the owner of object",
        "run \"ferry (copy|sync)",
        "calls get-caller-identity",
    ] {
        assert!(out.contains(needle), "`{needle}` missing:\n{out}");
    }
}

#[test]
fn errors_before_running_exit_2_with_a_clear_message() {
    let dir = temp_dir("errors");
    let missing = check(&["no/such/features"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("`no/such/features` does not exist"));

    let no_accounts = check(&["--target", "aws"]);
    assert_eq!(no_accounts.status.code(), Some(2));
    assert!(text(&no_accounts).contains("--target aws needs --accounts"));

    let bad = dir.join("accounts.toml");
    std::fs::write(&bad, "[accounts.A]\nprofil = \"a\"\n").unwrap();
    let o = check(&["--target", "aws", "--accounts", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unknown field `profil`"), "{}", text(&o));

    std::fs::write(&bad, "[accounts.A]\nregion = \"us-east-1\"\n").unwrap();
    let o = check(&["--target", "aws", "--accounts", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("account `A` needs `profile` or `role_arn`"));
}

const WRONG: &str = r#"Feature: a deliberately wrong expectation

  Scenario: B reads A's object, which the bucket policy allows
    Given accounts "A" and "B"
    And a bucket "data" in account "A"
    And an object "k.txt" in bucket "data" containing "x"
    And the bucket policy of "data" is:
      """
      { "Version": "2012-10-17", "Statement": [ { "Sid": "LetAccountBRead", "Effect": "Allow",
        "Principal": { "AWS": "${B}" }, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${bucket}/*" } ] }
      """
    When "B" gets object "k.txt" from bucket "data"
    Then it is denied

  Scenario: nothing allows C
    Given accounts "A" and "C"
    And a bucket "data" in account "A"
    And an object "k.txt" in bucket "data" containing "x"
    When "C" gets object "k.txt" from bucket "data"
    Then it succeeds
"#;

const UNKNOWN_STEP: &str = r#"Feature: an unknown step
  Scenario: a typo
    Given accounts "A"
    When "A" fetches object "k" from bucket "data"
    Then it succeeds
"#;

const PASSING: &str = r#"Feature: passes
  Scenario: the root of A lists its buckets
    Given accounts "A"
    When "A" lists the buckets
    Then it succeeds
"#;

#[test]
fn a_wrong_expectation_fails_and_names_the_deciding_statement() {
    let dir = temp_dir("wrong");
    std::fs::write(dir.join("wrong.feature"), WRONG).unwrap();
    let junit = dir.join("report.xml");
    let json = dir.join("report.json");
    let o = check(&[
        dir.join("wrong.feature").to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // The expected denial was allowed: by which statement.
    assert!(
        out.contains("expected AccessDenied, but it was allowed"),
        "{out}"
    );
    assert!(
        out.contains(
            "allowed by resource-based policy `bucket-policy` statement `LetAccountBRead`"
        ),
        "{out}"
    );
    // The expected success was denied: nothing allowed it.
    assert!(
        out.contains("expected success, but it failed: AccessDenied"),
        "{out}"
    );
    assert!(
        out.contains("implicitly denied: no resource-based policy allows it"),
        "{out}"
    );
    // Reports for CI systems.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite") && xml.contains("<failure"),
        "{xml}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let text = report.to_string();
    assert!(text.contains("a deliberately wrong expectation"), "{text}");
    assert!(text.contains("\"failed\""), "{text}");
}

#[test]
fn an_unknown_step_fails_the_run() {
    let dir = temp_dir("unknown");
    std::fs::write(dir.join("unknown.feature"), UNKNOWN_STEP).unwrap();
    let o = check(&[dir.join("unknown.feature").to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("Step doesn't match any function"), "{out}");

    // Malformed Gherkin is a failed run too, naming the file.
    std::fs::write(
        dir.join("broken.feature"),
        "this is not gherkin\nScenario: no feature\n",
    )
    .unwrap();
    let o = check(&[dir.join("broken.feature").to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("broken.feature"), "{out}");
}

#[test]
fn a_passing_feature_exits_0_and_writes_reports() {
    let dir = temp_dir("passing");
    std::fs::write(dir.join("ok.feature"), PASSING).unwrap();
    let junit = dir.join("report.xml");
    let json = dir.join("report.json");
    let o = check(&[
        dir.join("ok.feature").to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("the root of A lists its buckets"), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report.as_array().map(Vec::len), Some(1), "{report}");
}

/// Profiles `a`, `b`, `c` (the accounts' root keys), `reader` (the verify world's
/// AccountAReader) and `hub` (the user that assumes C's administrator role), and an accounts
/// file naming them: A and B by profile, C by a role ARN assumed with `hub`.
fn aws_files(tag: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(tag);
    let mut creds = String::new();
    let mut config = String::new();
    for (alias, _, key, secret) in ferry::emu::world::DEFAULT_ACCOUNTS {
        let p = alias.to_ascii_lowercase();
        creds.push_str(&format!(
            "[{p}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
        ));
        config.push_str(&format!("[profile {p}]\nregion = us-east-1\n"));
    }
    creds.push_str("[reader]\naws_access_key_id = AKIAVERIFYAREADER001\naws_secret_access_key = verifySecretOfAccountAReader00000000001\n");
    config.push_str("[profile reader]\nregion = us-east-1\n");
    creds.push_str("[hub]\naws_access_key_id = AKIAVERIFYCHUB000001\naws_secret_access_key = verifySecretOfAccountCHub0000000000001\n");
    config.push_str("[profile hub]\nregion = us-east-1\n");
    std::fs::write(dir.join("credentials"), creds).unwrap();
    std::fs::write(dir.join("config"), config).unwrap();
    let accounts = dir.join("accounts.toml");
    std::fs::write(
        &accounts,
        "[accounts.A]\nprofile = \"a\"\n[accounts.B]\nprofile = \"b\"\n\
         [accounts.C]\nrole_arn = \"arn:aws:iam::333333333333:role/ferry-check\"\nprofile = \"hub\"\n\
         [principals.AccountAReader]\naccount = \"A\"\nprofile = \"reader\"\n",
    )
    .unwrap();
    (dir, accounts)
}

/// What the scenarios must leave behind: exactly the world's own buckets and IAM entities.
fn inventory(emu: &Emu) -> Vec<String> {
    let st = emu.running.emulator.read();
    let mut out: Vec<String> = st.buckets.keys().map(|b| format!("bucket {b}")).collect();
    for a in st.accounts.values() {
        out.extend(a.users.keys().map(|u| format!("user {u}")));
        out.extend(a.roles.keys().map(|r| format!("role {r}")));
        out.extend(a.policies.keys().map(|p| format!("policy {p}")));
    }
    out.extend(st.keys.keys().filter(|k| k.starts_with("AKIA")).cloned());
    out.sort();
    out
}

async fn verify_world() -> Emu {
    Emu::start(
        World::load(&root().join("scenarios/verify-readonly.toml")).unwrap(),
        Options::default(),
    )
    .await
}

async fn run_async(cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = cmd;
        cmd.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_target_passes_every_feature_against_an_endpoint_and_removes_what_it_created() {
    let emu = verify_world().await;
    let before = inventory(&emu);
    let (dir, accounts) = aws_files("aws");
    let json = dir.join("report.json");
    let cmd = check_cmd(
        &[
            "--target",
            "aws",
            "--accounts",
            accounts.to_str().unwrap(),
            "--endpoint",
            &emu.endpoint(),
            "--json",
            json.to_str().unwrap(),
            "features",
        ],
        Some(&dir),
    );
    let o = run_async(cmd).await;
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("passed"), "{out}");
    // The emulator-only scenario (root credentials) was left out on this target.
    assert!(
        !out.contains("root credentials cannot assume roles"),
        "{out}"
    );
    // Account C's administrator was a role session (accounts.toml `role_arn`): `hub` alone may
    // only assume it, so the users seed 001 creates in C prove the role was used.
    // Everything a scenario created is gone again.
    assert_eq!(inventory(&emu), before);
    let report = std::fs::read_to_string(&json).unwrap();
    assert!(report.contains("Seed 001 Example 4"));
    assert!(report.contains("Verify - seed 002"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_provision_runs_only_verify_scenarios() {
    let emu = verify_world().await;
    let before = inventory(&emu);
    let (dir, accounts) = aws_files("verify");
    let json = dir.join("report.json");
    let cmd = check_cmd(
        &[
            "--target",
            "aws",
            "--accounts",
            accounts.to_str().unwrap(),
            "--endpoint",
            &emu.endpoint(),
            "--no-provision",
            "--json",
            json.to_str().unwrap(),
        ],
        Some(&dir),
    );
    let o = run_async(cmd).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let names: Vec<String> = report
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["elements"].as_array().is_some_and(|e| !e.is_empty()))
        .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names,
        ["Verify - seed 002's read-only role still reads and cannot write"],
        "{report}"
    );
    assert_eq!(inventory(&emu), before);

    // A step that would create something fails under --no-provision.
    let feature = dir.join("creates.feature");
    std::fs::write(
        &feature,
        "@verify\nFeature: creates\n  Scenario: makes a bucket\n    Given accounts \"A\"\n    And a bucket \"x\" in account \"A\"\n",
    )
    .unwrap();
    let cmd = check_cmd(
        &[
            "--target",
            "aws",
            "--accounts",
            accounts.to_str().unwrap(),
            "--endpoint",
            &emu.endpoint(),
            "--no-provision",
            feature.to_str().unwrap(),
        ],
        Some(&dir),
    );
    let o = run_async(cmd).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--no-provision forbids"), "{}", text(&o));
    assert_eq!(inventory(&emu), before);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_removes_what_the_interrupted_scenarios_created() {
    use std::io::Read;
    let emu = verify_world().await;
    let before = inventory(&emu);
    let (dir, accounts) = aws_files("interrupt");
    let mut cmd = check_cmd(
        &[
            "--target",
            "aws",
            "--accounts",
            accounts.to_str().unwrap(),
            "--endpoint",
            &emu.endpoint(),
            "features",
        ],
        Some(&dir),
    );
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Interrupt once scenarios have created something.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while inventory(&emu).len() <= before.len() + 2 {
        assert!(std::time::Instant::now() < deadline, "nothing was created");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let pid = child.id().to_string();
    let kill = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(kill.success());
    let (status, stderr) = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            e.read_to_string(&mut err).unwrap();
        }
        (status, err)
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(inventory(&emu), before);
}
