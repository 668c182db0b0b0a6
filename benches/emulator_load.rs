//! Load generator for S3 endpoints: PUT then GET of N objects with a fixed number of requests in
//! flight, through the real aws-sdk-s3 client (SigV4, path-style, plain HTTP).
//!
//! It prints one JSON line per phase (ops, seconds, ops/s, p50/p99/max latency, errors, and the
//! CPU time the client and, with `--server-pid`, the server spent). It is a benchmark, not a test:
//! nothing here asserts a target; `bench/emulator-vs-moto.sh` runs it against `ferry serve` and
//! `moto_server` and computes the ratio, `bench/emulator-memory.sh` uses `--phases put` to fill
//! a server with ~1 GiB. Results are recorded in docs/BENCHMARKS.md.
//!
//! ```sh
//! # alone: starts ferry's emulator in this process on 127.0.0.1:0 (default world, account A)
//! cargo bench --bench emulator_load -- --ops 20000
//! # against a running server
//! cargo bench --bench emulator_load -- --endpoint http://127.0.0.1:4566 \
//!     --access-key AKIAFERRYROOTA000001 --secret-key ferryRootSecretKeyOfAccountA000000000001 \
//!     --bucket bench-1 --create-bucket --ops 20000 --concurrency 64 --size 4096
//! ```
//!
//! Authorization stays on. With `--principal user` (the default) the given key only sets up:
//! it creates the IAM user `loadgen-BUCKET` with an inline policy allowing `s3:*` on the bucket,
//! and the load runs with that user's new access key, so every request verifies a SigV4
//! signature, resolves the user and evaluates its identity policy (plus the bucket's ACL and
//! Object Ownership). `--principal root` runs with the given key itself.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::primitives::ByteStream;
use bytes::{Buf as _, Bytes};

// The same allocator as the `ferry` binary; the client is the same for every server measured.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
emulator_load: PUT then GET N objects through aws-sdk-s3 with C requests in flight

  cargo bench --bench emulator_load -- [OPTIONS]

  --endpoint URL        S3 endpoint (http://127.0.0.1:PORT); without it, ferry's emulator is
                        started in this process on 127.0.0.1:0 with the default world
  --access-key K        key that sets up (and with --principal root, runs) the load
                        [default: account A's root key from the default world]
  --secret-key S
  --bucket B            [default: ferry-bench]
  --create-bucket       create B first (an existing bucket of ours is fine)
  --principal P         user | root [default: user]: `user` creates IAM user loadgen-B with an
                        inline policy allowing s3:* on B and runs with its new key
  --ops N               objects per phase [default: 10000]
  --concurrency C       requests in flight [default: 64]
  --size BYTES          object size [default: 4096]
  --warmup W            unmeasured PUTs first, to open connections [default: 0]
  --phases LIST         put,get | put | get [default: put,get]
  --key-prefix P        object keys are P00000000.. [default: obj/]
  --label NAME          the \"target\" field of the JSON lines [default: ferry-inprocess or endpoint]
  --server-pid PID      add the server's CPU seconds and VmRSS (from /proc/PID) to each line
                        (client_cpu_s is this process's: without --endpoint it includes the
                        emulator)
  --deadline-s S        stop a phase after S seconds (ops done so far are reported) [default: 600]
  --lean-client         turn off the SDK's stalled-stream protection and its optional checksums
                        (CRC32 on PUT, validation on GET), to see how much of the run is client
  --print-sizes         print the in-memory sizes of the emulator's object records and exit
";

#[derive(Clone, Debug)]
struct Args {
    endpoint: Option<String>,
    access_key: String,
    secret_key: String,
    bucket: String,
    create_bucket: bool,
    principal_user: bool,
    ops: usize,
    concurrency: usize,
    size: usize,
    warmup: usize,
    put: bool,
    get: bool,
    key_prefix: String,
    label: Option<String>,
    server_pid: Option<u32>,
    deadline: Duration,
    lean_client: bool,
}

fn parse_args() -> Result<Args> {
    let (_, _, root_id, root_secret) = ferry::emu::world::DEFAULT_ACCOUNTS[0];
    let mut a = Args {
        endpoint: None,
        access_key: root_id.to_owned(),
        secret_key: root_secret.to_owned(),
        bucket: "ferry-bench".to_owned(),
        create_bucket: false,
        principal_user: true,
        ops: 10_000,
        concurrency: 64,
        size: 4096,
        warmup: 0,
        put: true,
        get: true,
        key_prefix: "obj/".to_owned(),
        label: None,
        server_pid: None,
        deadline: Duration::from_secs(600),
        lean_client: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            // `cargo bench` passes `--bench` to harness = false targets.
            "--bench" => {}
            "--print-sizes" => {
                use ferry::emu::state::Object;
                println!(
                    "{}",
                    serde_json::json!({
                        "size_of_object": std::mem::size_of::<Object>(),
                        "size_of_key_and_object": std::mem::size_of::<(String, Object)>(),
                        "size_of_bytes": std::mem::size_of::<Bytes>(),
                    })
                );
                std::process::exit(0);
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--endpoint" => a.endpoint = Some(val()?),
            "--access-key" => a.access_key = val()?,
            "--secret-key" => a.secret_key = val()?,
            "--bucket" => a.bucket = val()?,
            "--create-bucket" => a.create_bucket = true,
            "--principal" => {
                a.principal_user = match val()?.as_str() {
                    "user" => true,
                    "root" => false,
                    other => bail!("--principal {other}: expected user or root"),
                }
            }
            "--ops" => a.ops = val()?.parse().context("--ops")?,
            "--concurrency" => a.concurrency = val()?.parse().context("--concurrency")?,
            "--size" => a.size = val()?.parse().context("--size")?,
            "--warmup" => a.warmup = val()?.parse().context("--warmup")?,
            "--phases" => {
                let v = val()?;
                a.put = false;
                a.get = false;
                for p in v.split(',') {
                    match p {
                        "put" => a.put = true,
                        "get" => a.get = true,
                        other => bail!("--phases: unknown phase {other}"),
                    }
                }
            }
            "--lean-client" => a.lean_client = true,
            "--key-prefix" => a.key_prefix = val()?,
            "--label" => a.label = Some(val()?),
            "--server-pid" => a.server_pid = Some(val()?.parse().context("--server-pid")?),
            "--deadline-s" => {
                a.deadline = Duration::from_secs(val()?.parse().context("--deadline-s")?)
            }
            other => bail!("unknown argument {other}\n\n{USAGE}"),
        }
    }
    if a.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    Ok(a)
}

fn creds(id: &str, secret: &str) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(id, secret, None, None, "emulator-load")
}

/// The SDK's defaults (checksums, signing) with plain HTTP, path-style, no retries (a failed
/// request counts as an error instead of hiding in the latency) and a 30 s operation timeout.
/// `lean` drops what the SDK does per request beyond signing: stalled-stream protection and
/// the optional CRC32 on uploads and its validation on downloads.
fn s3_client(endpoint: &str, id: &str, secret: &str, lean: bool) -> aws_sdk_s3::Client {
    let mut conf = aws_sdk_s3::Config::builder();
    if lean {
        use aws_sdk_s3::config::{
            RequestChecksumCalculation, ResponseChecksumValidation, StalledStreamProtectionConfig,
        };
        conf = conf
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    let conf = conf
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(creds(id, secret))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn iam_client(endpoint: &str, id: &str, secret: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version_latest()
        .region(Region::new("us-east-1"))
        .credentials_provider(creds(id, secret))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// Creates `loadgen-BUCKET` (or reuses it) with an inline policy allowing s3:* on the bucket and
/// returns a new access key of it.
async fn bench_user(endpoint: &str, a: &Args) -> Result<(String, String)> {
    let iam = iam_client(endpoint, &a.access_key, &a.secret_key);
    let user: String = format!("loadgen-{}", a.bucket).chars().take(64).collect();
    match iam.create_user().user_name(&user).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_entity_already_exists_exception()) => {}
        Err(e) => bail!(
            "CreateUser {user}: {}",
            aws_sdk_iam::error::DisplayErrorContext(e)
        ),
    }
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Bench",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [
                format!("arn:aws:s3:::{}", a.bucket),
                format!("arn:aws:s3:::{}/*", a.bucket),
            ],
        }],
    });
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("bench-s3")
        .policy_document(policy.to_string())
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "PutUserPolicy: {}",
                aws_sdk_iam::error::DisplayErrorContext(e)
            )
        })?;
    let out = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .map_err(|e| {
            anyhow!(
                "CreateAccessKey: {}",
                aws_sdk_iam::error::DisplayErrorContext(e)
            )
        })?;
    let key = out
        .access_key()
        .ok_or_else(|| anyhow!("CreateAccessKey returned no key"))?;
    Ok((
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    ))
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    match s3.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(e) => bail!(
            "CreateBucket {bucket}: {}",
            aws_sdk_s3::error::DisplayErrorContext(e)
        ),
    }
}

/// utime + stime of a process, in seconds (from /proc/PID/stat; `self` for this process).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // USER_HZ is 100 on Linux for every architecture this runs on.
    Some((utime + stime) / 100.0)
}

/// VmRSS of a process in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix("VmRSS:")
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Put,
    Get,
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

/// Runs `count` operations with `a.concurrency` worker tasks pulling indexes from a counter.
async fn run_phase(
    s3: &aws_sdk_s3::Client,
    a: &Args,
    op: Op,
    prefix: &str,
    count: usize,
    body: &Bytes,
) -> (Outcome, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + a.deadline;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..a.concurrency.min(count.max(1)) {
        let s3 = s3.clone();
        let next = next.clone();
        let bucket = a.bucket.clone();
        let prefix = prefix.to_owned();
        let body = body.clone();
        let size = a.size;
        tasks.spawn(async move {
            let mut out = Outcome {
                latencies: Vec::with_capacity(count / 8 + 1),
                errors: 0,
                first_error: None,
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() >= deadline {
                    break;
                }
                let key = format!("{prefix}{i:08}");
                let t0 = Instant::now();
                let r: Result<()> = match op {
                    Op::Put => s3
                        .put_object()
                        .bucket(&bucket)
                        .key(&key)
                        .body(ByteStream::from(body.clone()))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| anyhow!("{}", aws_sdk_s3::error::DisplayErrorContext(e))),
                    Op::Get => match s3.get_object().bucket(&bucket).key(&key).send().await {
                        Ok(resp) => match resp.body.collect().await {
                            Ok(data) if data.remaining() == size => Ok(()),
                            Ok(data) => Err(anyhow!(
                                "GET {key}: {} bytes, expected {size}",
                                data.remaining()
                            )),
                            Err(e) => Err(anyhow!("GET {key} body: {e}")),
                        },
                        Err(e) => Err(anyhow!("{}", aws_sdk_s3::error::DisplayErrorContext(e))),
                    },
                };
                out.latencies.push(t0.elapsed());
                if let Err(e) = r {
                    out.errors += 1;
                    out.first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
            out
        });
    }
    let mut all = Outcome {
        latencies: Vec::with_capacity(count),
        errors: 0,
        first_error: None,
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(o) => {
                all.latencies.extend(o.latencies);
                all.errors += o.errors;
                if all.first_error.is_none() {
                    all.first_error = o.first_error;
                }
            }
            Err(e) => {
                all.errors += 1;
                all.first_error
                    .get_or_insert_with(|| format!("worker: {e}"));
            }
        }
    }
    (all, start.elapsed())
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest-rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let idx = rank.clamp(1, sorted.len()) - 1;
    sorted[idx].as_secs_f64() * 1e3
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

async fn run(a: Args) -> Result<()> {
    // Without --endpoint: ferry's emulator in this process (kept alive until the end).
    let mut _running = None;
    let endpoint = match &a.endpoint {
        Some(e) => e.clone(),
        None => {
            use ferry::emu::{server, Emulator, Options, World};
            let emu = Arc::new(
                Emulator::new(&World::default_world(), Options::default())
                    .map_err(|e| anyhow!("default world: {e}"))?,
            );
            let running = server::start(emu, ([127, 0, 0, 1], 0).into())
                .await
                .context("starting the in-process emulator")?;
            let e = running.endpoint();
            _running = Some(running);
            e
        }
    };
    let label = a.label.clone().unwrap_or_else(|| match &a.endpoint {
        Some(e) => e.clone(),
        None => "ferry-inprocess".to_owned(),
    });
    let admin = s3_client(&endpoint, &a.access_key, &a.secret_key, a.lean_client);
    // In-process there is no bucket yet unless we make it.
    if a.create_bucket || a.endpoint.is_none() {
        create_bucket(&admin, &a.bucket).await?;
    }
    let (principal, s3) = if a.principal_user {
        let (id, secret) = bench_user(&endpoint, &a).await?;
        (
            format!(
                "IAM user loadgen-{} (inline policy s3:* on the bucket)",
                a.bucket
            ),
            s3_client(&endpoint, &id, &secret, a.lean_client),
        )
    } else {
        ("given key".to_owned(), admin)
    };

    // One body shared by every PUT (the SDK does not copy a `Bytes` body); pseudo-random so
    // nothing along the way can compress or special-case it.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let body: Bytes = (0..a.size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect::<Vec<u8>>()
        .into();

    if a.warmup > 0 {
        let (o, _) = run_phase(&s3, &a, Op::Put, "warmup/", a.warmup, &body).await;
        if o.errors > 0 {
            eprintln!(
                "warmup: {} errors, first: {}",
                o.errors,
                o.first_error.unwrap_or_default()
            );
        }
    }

    let phases: Vec<Op> = [(a.put, Op::Put), (a.get, Op::Get)]
        .into_iter()
        .filter_map(|(on, op)| on.then_some(op))
        .collect();
    for op in phases {
        let server_cpu0 = a.server_pid.and_then(|p| cpu_seconds(&p.to_string()));
        let client_cpu0 = cpu_seconds("self");
        let (mut o, elapsed) = run_phase(&s3, &a, op, &a.key_prefix, a.ops, &body).await;
        let server_cpu = a
            .server_pid
            .and_then(|p| cpu_seconds(&p.to_string()))
            .zip(server_cpu0)
            .map(|(b, a)| b - a);
        let client_cpu = cpu_seconds("self").zip(client_cpu0).map(|(b, a)| b - a);
        o.latencies.sort_unstable();
        let n = o.latencies.len();
        let secs = elapsed.as_secs_f64();
        let mut line = serde_json::json!({
            "target": label,
            "phase": if op == Op::Put { "put" } else { "get" },
            "principal": principal,
            "ops": n,
            "concurrency": a.concurrency,
            "size": a.size,
            "seconds": round(secs, 4),
            "ops_per_s": round(n as f64 / secs, 1),
            "p50_ms": round(percentile_ms(&o.latencies, 50.0), 3),
            "p99_ms": round(percentile_ms(&o.latencies, 99.0), 3),
            "max_ms": round(percentile_ms(&o.latencies, 100.0), 3),
            "errors": o.errors,
            "client_cpu_s": client_cpu.map(|c| round(c, 2)),
            "client": if a.lean_client { "lean" } else { "sdk-defaults" },
        });
        if let Some(pid) = a.server_pid {
            line["server_cpu_s"] = serde_json::json!(server_cpu.map(|c| round(c, 2)));
            line["server_cpu_us_per_op"] =
                serde_json::json!(server_cpu.map(|c| round(c * 1e6 / n.max(1) as f64, 1)));
            line["server_rss_kib"] = serde_json::json!(rss_kib(pid));
        }
        println!("{line}");
        if let Some(e) = o.first_error {
            eprintln!("{}: first error: {e}", line["phase"]);
        }
        if n < a.ops {
            eprintln!(
                "{}: deadline reached after {n} of {} ops",
                line["phase"], a.ops
            );
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(run(args))
}
