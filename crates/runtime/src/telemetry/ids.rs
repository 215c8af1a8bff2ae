//! Trace and span ids. A run's trace id and its `invoke_agent` span id are
//! derived from the run (its id and creation time), so every job that
//! works on the run — the first, one resumed after a crash or after an
//! approval — puts its spans in the same trace under the same parent.
//! Other spans get random ids: a model call repeated after a crash is a
//! second call, and shows as one.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use steward_domain::RunId;

pub(crate) type TraceId = [u8; 16];
pub(crate) type SpanId = [u8; 8];

pub(crate) fn trace_id(run: RunId, created_at: DateTime<Utc>) -> TraceId {
    let digest = Sha256::new()
        .chain_update(b"steward run trace\0")
        .chain_update(run.get().to_be_bytes())
        .chain_update(created_at.timestamp_micros().to_be_bytes())
        .finalize();
    let mut id = [0; 16];
    id.copy_from_slice(&digest[..16]);
    nonzero(&mut id);
    id
}

pub(crate) fn root_span_id(trace: &TraceId) -> SpanId {
    let digest = Sha256::new().chain_update(b"steward invoke_agent\0").chain_update(trace).finalize();
    let mut id = [0; 8];
    id.copy_from_slice(&digest[..8]);
    nonzero(&mut id);
    id
}

pub(crate) fn random_span_id() -> SpanId {
    let mut id: SpanId = rand::random();
    nonzero(&mut id);
    id
}

/// An all-zero id is invalid in OTLP.
fn nonzero(id: &mut [u8]) {
    if id.iter().all(|byte| *byte == 0) {
        id[0] = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_always_gets_the_same_trace_and_root_and_another_run_another() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_000).unwrap();
        let trace = trace_id(RunId(7), at);
        assert_eq!(trace, trace_id(RunId(7), at), "a resumed run finds its trace again");
        assert_eq!(root_span_id(&trace), root_span_id(&trace_id(RunId(7), at)));
        assert_ne!(trace, trace_id(RunId(8), at));
        assert_ne!(trace, trace_id(RunId(7), at + chrono::Duration::microseconds(1)), "run 7 of another home");
        assert_ne!(random_span_id(), random_span_id());
    }
}
