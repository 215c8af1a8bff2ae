//! A run's steps: appending one (with what it adds to the run's totals) and
//! reading them back, in each database's dialect.

pub(crate) mod postgres;
pub(crate) mod sqlite;
