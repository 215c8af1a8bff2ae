//! The open-file limit (`RLIMIT_NOFILE`): a process holding thousands of
//! connections at once (the fake provider under load, `steward bench agents`)
//! raises its soft limit to the hard one, which only the administrator can
//! raise further.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// The limits after raising; `None` is unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFilesLimit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

impl OpenFilesLimit {
    /// Whether `needed` descriptors fit under the soft limit.
    pub fn allows(&self, needed: u64) -> bool {
        self.soft.is_none_or(|soft| soft >= needed)
    }

    pub fn describe(&self) -> String {
        let show = |limit: Option<u64>| limit.map_or_else(|| "unlimited".to_string(), |limit| limit.to_string());
        format!("{} (hard {})", show(self.soft), show(self.hard))
    }
}

/// Raises the soft open-file limit to the hard limit and returns both. A
/// failure leaves the limit as it was: the caller compares it with what it needs.
pub fn raise_open_files_limit() -> OpenFilesLimit {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit { current: limit.maximum, maximum: limit.maximum };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(%error, "cannot raise the open-file limit to the hard limit");
        }
    }
    let now = getrlimit(Resource::Nofile);
    OpenFilesLimit { soft: now.current, hard: now.maximum }
}
