//! One module per subcommand.

pub mod action;
pub mod agent;
pub mod bench;
pub mod completions;
pub mod events;
pub mod job;
pub mod migrate;
pub mod serve;
pub mod status;
