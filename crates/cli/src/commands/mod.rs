//! One module per subcommand.

pub mod ask;
pub mod bench;
mod bench_llm;
pub mod completions;
pub mod dev;
mod llm_setup;
pub mod migrate;
pub mod models;
pub mod serve;
