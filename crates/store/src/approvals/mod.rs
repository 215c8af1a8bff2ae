//! Approvals: a running run pauses for people to approve tool calls, and
//! the last decision queues it again. The operations are part of
//! [`crate::RunStore`]; each database's dialect is beside this file.

pub(crate) mod decide;
pub(crate) mod postgres;
pub(crate) mod sqlite;
