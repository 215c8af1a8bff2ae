//! Project chores as code. `cargo run -p xtask -- tidy` prints what the tidy
//! checks find; the same checks run as ordinary tests in `cargo nextest run`.

mod module_cycles;
mod problem;
mod tidy;
mod wall_clock;

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "tidy" => {
            // Another checkout may be named, to see what it would report.
            let root = std::env::args().nth(2).map_or_else(tidy::workspace_root, std::path::PathBuf::from);
            let problems = tidy::check(&root);
            for problem in &problems {
                println!("{problem}");
            }
            if problems.is_empty() {
                println!("tidy: all checks pass");
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!("usage: cargo run -p xtask -- tidy [WORKSPACE]");
            ExitCode::FAILURE
        }
    }
}
