//! The seed walkthroughs with the real aws CLI: each script in `tests/cli/` runs against its own
//! `ferry serve` (the built binary, on a free port, with the script's world file) and must exit 0.
//! The scripts assert every outcome their seed document states, denials included; see
//! `tests/cli/README.md`.
//!
//! The aws CLI is `FERRY_AWS_CLI`, else `.venv/bin/aws` (what `bash .ci/run` installs), else
//! `aws` on PATH. Without one the tests fail, unless `FERRY_SKIP_AWS_CLI=1`.
//! `FERRY_CLI_RUN_KNOWN_BUGS=1` also runs the script steps marked `# KNOWN-BUG:` (skipped
//! otherwise), to check a fix of the emulator.
#![cfg(unix)]

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long `ferry serve` may take to write its credentials file.
const SERVER_START: Duration = Duration::from_secs(10);
/// How long one script may run (normally well under a minute; the CLI starts slowly).
const SCRIPT_LIMIT: Duration = Duration::from_secs(600);

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `cli --version` runs.
fn runs(cli: &Path) -> bool {
    Command::new(cli)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The aws CLI to use, or why there is none.
fn find_aws_cli() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("FERRY_AWS_CLI").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if runs(&p) {
            Ok(p)
        } else {
            Err(format!(
                "FERRY_AWS_CLI={} does not run (`{} --version` failed)",
                p.display(),
                p.display()
            ))
        };
    }
    let venv = manifest_dir().join(".venv/bin/aws");
    if venv.is_file() && runs(&venv) {
        return Ok(venv);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("aws"))
            .find(|p| p.is_file() && runs(p))
    });
    on_path.ok_or_else(|| {
        "no aws CLI found (FERRY_AWS_CLI unset, no .venv/bin/aws, no `aws` on PATH)".to_owned()
    })
}

fn aws_cli() -> &'static Result<PathBuf, String> {
    static CLI: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CLI.get_or_init(find_aws_cli)
}

/// A running `ferry serve`, killed (with its scratch directory removed) when dropped, also
/// when the test panics.
struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    fn log(&self) -> String {
        let out = fs::read_to_string(self.dir.join("serve.out")).unwrap_or_default();
        let err = fs::read_to_string(self.dir.join("serve.err")).unwrap_or_default();
        format!("{out}{err}")
    }

    /// Starts `ferry serve --world WORLD` on a free port and waits for its credentials file.
    fn start(name: &str, world: &Path) -> (Server, String) {
        let dir = std::env::temp_dir().join(format!(
            "ferry-cli-walkthrough-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let creds = dir.join("credentials.json");
        let child = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .arg("serve")
            .arg("--world")
            .arg(world)
            .args(["--listen", "127.0.0.1:0", "--credentials-out"])
            .arg(&creds)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("serve.out")).unwrap())
            .stderr(fs::File::create(dir.join("serve.err")).unwrap())
            .spawn()
            .expect("ferry serve starts");
        let mut server = Server { child, dir };
        let started = Instant::now();
        loop {
            // The file is written in one go, but may be seen half-written: parse to be sure.
            if let Ok(text) = fs::read_to_string(&creds) {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                    let endpoint = json["endpoint"].as_str().expect("endpoint").to_owned();
                    return (server, endpoint);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "ferry serve --world {} exited ({status}) before listening:\n{}",
                    world.display(),
                    server.log()
                );
            }
            assert!(
                started.elapsed() < SERVER_START,
                "ferry serve --world {} wrote no credentials file within {SERVER_START:?}:\n{}",
                world.display(),
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Runs `bash SCRIPT` in its own process group (so a timeout can stop the aws CLI it runs);
/// returns its status (None on timeout), stdout and stderr.
fn run_script(
    script: &Path,
    endpoint: &str,
    cli: &Path,
    dir: &Path,
) -> (Option<ExitStatus>, String, String) {
    let out_path = dir.join("script.out");
    let err_path = dir.join("script.err");
    let mut child = Command::new("bash")
        .arg(script)
        .current_dir(manifest_dir())
        .env("FERRY_ENDPOINT", endpoint)
        .env("FERRY_AWS_CLI", cli)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .process_group(0)
        .spawn()
        .expect("bash starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_LIMIT {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    (status, stdout, stderr)
}

/// Runs `tests/cli/NAME.sh` against `ferry serve --world scenarios/NAME.toml`.
fn walkthrough(name: &str) {
    let cli = match aws_cli() {
        Ok(cli) => cli,
        Err(why) => {
            if std::env::var("FERRY_SKIP_AWS_CLI").is_ok_and(|v| v == "1") {
                eprintln!("NOTICE: tests/cli/{name}.sh not run: {why} (FERRY_SKIP_AWS_CLI=1)");
                return;
            }
            panic!(
                "tests/cli/{name}.sh needs the aws CLI: {why}.\n\
                 Run `bash .ci/run` (it installs awscli into .venv), or set FERRY_AWS_CLI to an \
                 aws executable, or FERRY_SKIP_AWS_CLI=1 to skip these tests."
            );
        }
    };
    let script = manifest_dir().join("tests/cli").join(format!("{name}.sh"));
    let world = manifest_dir()
        .join("scenarios")
        .join(format!("{name}.toml"));
    let (server, endpoint) = Server::start(name, &world);
    let started = Instant::now();
    let (status, stdout, stderr) = run_script(&script, &endpoint, cli, &server.dir);
    let took = started.elapsed();
    let ok = status.is_some_and(|s| s.success());
    if !ok {
        let what = match status {
            Some(s) => format!("failed ({s})"),
            None => format!("timed out after {SCRIPT_LIMIT:?}"),
        };
        let log = server.log();
        drop(server);
        panic!(
            "tests/cli/{name}.sh {what} against ferry serve --world scenarios/{name}.toml \
             (aws CLI {}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- ferry serve\n{log}",
            cli.display()
        );
    }
    // Shown with `--nocapture`: the script's closing line and how long it took.
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    println!("{} ({took:.1?})", last.unwrap_or(name));
}

#[test]
fn seed000_option1_resource_and_identity_policies() {
    walkthrough("seed000-option1");
}

#[test]
fn seed000_option2_cross_account_role() {
    walkthrough("seed000-option2");
}

#[test]
fn seed001_example4_objects_the_bucket_owner_does_not_own() {
    walkthrough("seed001");
}

#[test]
fn seed002_read_only_through_a_role() {
    walkthrough("seed002");
}

#[test]
fn seed003_upload_only_through_a_role() {
    walkthrough("seed003");
}
