//! The `ferry` binary: set up logging, parse the command line, run it, exit with its code.

use std::process::ExitCode;

use clap::Parser;

// glibc's malloc took a fifth of the copy engine's CPU under load (its arena locks and
// consolidation); mimalloc's thread-local free lists do not contend.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = ferry::cli::Cli::parse();
    // Logs go to stderr. RUST_LOG overrides the default, which keeps s3s's per-request error
    // logs (every AccessDenied is one) quiet; `ferry serve --explain` turns on the decisions.
    let explain = matches!(&cli.command, ferry::cli::Command::Serve(a) if a.explain);
    let default = if explain {
        "warn,s3s=off,ferry::explain=info"
    } else {
        "warn,s3s=off"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    ferry::cli::run(cli)
}
