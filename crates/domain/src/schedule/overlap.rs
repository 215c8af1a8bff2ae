//! What a fire does when the work of an earlier fire of the same schedule is
//! still running: the overlap policy and its decision.

use crate::text_enum::text_enum;

text_enum!(
    /// What to do with a fire while the previous fire's work still runs.
    OverlapPolicy, "overlap", {
        /// Do not start; record the fire as skipped. The default.
        Skip => "skip",
        /// Keep one fire waiting and start it when the running work ends;
        /// further fires meanwhile are skipped.
        BufferOne => "buffer_one",
        /// Keep every fire waiting, and start them one after another.
        BufferAll => "buffer_all",
        /// Cancel the running work, then start.
        CancelRunning => "cancel_running",
        /// Start anyway, alongside the running work.
        Allow => "allow",
    }
);

// `text_enum!` fixes the derives, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for OverlapPolicy {
    fn default() -> Self {
        OverlapPolicy::Skip
    }
}

/// What the scheduler does with one fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverlapDecision {
    /// Start the fire's work now.
    Start,
    /// Record the fire as skipped because earlier work still runs.
    Skip,
    /// Keep the fire waiting until the running work ends.
    Buffer,
    /// Cancel the running work, then start.
    CancelRunningThenStart,
}

impl OverlapPolicy {
    /// The decision for a fire, given whether earlier work still runs and how
    /// many fires already wait in the buffer.
    pub fn decide(self, previous_still_running: bool, fires_buffered: usize) -> OverlapDecision {
        if !previous_still_running && fires_buffered == 0 {
            return OverlapDecision::Start;
        }
        match self {
            OverlapPolicy::Skip => OverlapDecision::Skip,
            OverlapPolicy::BufferOne if fires_buffered == 0 => OverlapDecision::Buffer,
            OverlapPolicy::BufferOne => OverlapDecision::Skip,
            OverlapPolicy::BufferAll => OverlapDecision::Buffer,
            OverlapPolicy::CancelRunning => OverlapDecision::CancelRunningThenStart,
            OverlapPolicy::Allow => OverlapDecision::Start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_running_always_starts() {
        for policy in OverlapPolicy::ALL {
            assert_eq!(policy.decide(false, 0), OverlapDecision::Start, "{policy}");
        }
    }

    #[test]
    fn each_policy_decides_while_work_runs() {
        assert_eq!(OverlapPolicy::default(), OverlapPolicy::Skip);
        assert_eq!(OverlapPolicy::Skip.decide(true, 0), OverlapDecision::Skip);
        assert_eq!(OverlapPolicy::BufferOne.decide(true, 0), OverlapDecision::Buffer);
        assert_eq!(OverlapPolicy::BufferOne.decide(true, 1), OverlapDecision::Skip);
        assert_eq!(OverlapPolicy::BufferAll.decide(true, 5), OverlapDecision::Buffer);
        assert_eq!(OverlapPolicy::CancelRunning.decide(true, 0), OverlapDecision::CancelRunningThenStart);
        assert_eq!(OverlapPolicy::Allow.decide(true, 3), OverlapDecision::Start);
    }

    #[test]
    fn a_buffered_fire_keeps_later_ones_from_jumping_ahead() {
        // Work ended but a fire still waits: the new one queues behind it.
        assert_eq!(OverlapPolicy::BufferAll.decide(false, 1), OverlapDecision::Buffer);
        assert_eq!(OverlapPolicy::BufferOne.decide(false, 1), OverlapDecision::Skip);
    }

    #[test]
    fn policies_parse_from_their_names() {
        assert_eq!("buffer_one".parse::<OverlapPolicy>().unwrap(), OverlapPolicy::BufferOne);
        let error = "queue".parse::<OverlapPolicy>().unwrap_err();
        assert_eq!(error.field, "overlap");
        assert!(error.message.contains("skip, buffer_one, buffer_all, cancel_running, allow"), "{error}");
    }
}
