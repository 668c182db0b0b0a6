//! Runs every feature in `features/` against a fresh in-process emulator per scenario
//! (`cargo test --test features`); exits non-zero when any scenario fails.

use std::path::PathBuf;
use std::process::ExitCode;

use ferry::harness::{self, CheckOptions, Target};

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `cargo test --test features -- NAME` runs the scenarios whose name contains NAME (libtest's
    // flags, which `cargo test` may pass to every test binary, are ignored).
    let name_filter = name_filter(std::env::args().skip(1));
    let filtered = name_filter.is_some();
    let opts = CheckOptions {
        paths: vec![root.join("features")],
        target: Target::Emulator,
        no_provision: false,
        junit: None,
        json: None,
        name_filter,
        concurrency: 16,
        quiet: false,
        iam_settle: None,
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(harness::run(opts)) {
        Ok(s) if s.passed() && (s.scenarios > 0 || filtered) => {
            // A filter meant for other test binaries (`cargo test NAME`) may match nothing here.
            println!("{} passed, 0 failed", s.scenarios);
            ExitCode::SUCCESS
        }
        Ok(s) => {
            println!(
                "{} passed, {} failed",
                s.scenarios - s.failed_scenarios.min(s.scenarios),
                s.failed_scenarios.max(usize::from(!s.passed()))
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("ferry check: {e}");
            ExitCode::from(2)
        }
    }
}

/// The first free argument, skipping libtest's flags and their values.
fn name_filter(args: impl Iterator<Item = String>) -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "--test-threads",
        "--skip",
        "--format",
        "--color",
        "--logfile",
        "--shuffle-seed",
        "-Z",
    ];
    let mut args = args;
    while let Some(a) = args.next() {
        if WITH_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            return Some(a);
        }
    }
    None
}
