//! Project chores as code. `cargo run -p xtask -- tidy` prints what the tidy
//! checks find; the same checks run as ordinary tests in `cargo nextest run`.

mod tidy;

use std::process::ExitCode;

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "tidy" => {
            let problems = tidy::check(&tidy::workspace_root());
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
            eprintln!("usage: cargo run -p xtask -- tidy");
            ExitCode::FAILURE
        }
    }
}
