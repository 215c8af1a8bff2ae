//! Whether a node is alive, written once for both databases.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// What a node's last beat says at the time of reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeState {
    /// Beat within its lease.
    Alive,
    /// No beat for longer than its lease: it died or lost the database, and
    /// its jobs' leases have expired.
    Silent,
    /// Said it stopped.
    Stopped,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Alive => "alive",
            NodeState::Silent => "silent",
            NodeState::Stopped => "stopped",
        }
    }
}

pub(crate) fn state(
    heartbeat_at: DateTime<Utc>,
    stopped_at: Option<DateTime<Utc>>,
    lease: Duration,
    now: DateTime<Utc>,
) -> NodeState {
    if stopped_at.is_some() {
        return NodeState::Stopped;
    }
    let silent_for = (now - heartbeat_at).to_std().unwrap_or_default();
    if silent_for > lease { NodeState::Silent } else { NodeState::Alive }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_node_is_silent_after_its_lease_without_a_beat_and_stopped_once_it_said_so() {
        let beat = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let lease = Duration::from_secs(30);
        assert_eq!(state(beat, None, lease, beat + chrono::Duration::seconds(30)), NodeState::Alive);
        assert_eq!(state(beat, None, lease, beat + chrono::Duration::seconds(31)), NodeState::Silent);
        assert_eq!(state(beat, Some(beat), lease, beat), NodeState::Stopped);
    }
}
