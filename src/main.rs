//! The `ferry` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = ferry::cli::Cli::parse();
    ferry::cli::run(cli)
}
