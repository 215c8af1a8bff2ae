//! Steward's domain from the outside: the schedule grammar, fire times across
//! time zones and DST transitions (hand-checked tables and property tests
//! against a brute-force walk of the wall clock), and missed-run planning.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dst_fire_times;
mod fire_time_properties;
mod fire_times;
mod missed_run_properties;
mod missed_runs;
mod support;
mod when_grammar;
