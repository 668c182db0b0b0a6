//! Runs every feature in `features/` against a fresh in-process emulator per scenario
//! (`cargo test --test features`); exits non-zero when any scenario fails.

use std::path::PathBuf;
use std::process::ExitCode;

use ferry::harness::{self, CheckOptions, Target};

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // `cargo test --test features -- NAME` runs the scenarios whose name contains NAME.
    let name_filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
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
        Ok(s) if s.passed() && s.scenarios > 0 => {
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
