//! One module per subcommand.

pub mod ask;
pub mod bench;
pub mod completions;
pub mod dev;
mod llm_setup;
pub mod migrate;
pub mod models;
pub mod serve;
