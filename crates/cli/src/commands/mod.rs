//! One module per subcommand.

pub mod bench;
pub mod completions;
pub mod migrate;
pub mod serve;
