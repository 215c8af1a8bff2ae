//! Oversight of agents at work: the guardian's rules (when a long run is
//! looked at, what its policy does with an assessment), the stored
//! assessment, a project's changes to the policy, and an agent's liveness
//! derived from its runs' leases.
//! Pure: the runtime asks the model and the store records.

pub mod duplicates;
pub mod guardian;
pub mod liveness;
pub mod overrides;

pub use guardian::{
    Assessment, AssessmentStatus, GuardianPolicy, GuardianVerdict, Intervention, LookDecision, NewAssessment,
    PolicyDecision, Progress, apply_policy, parse_span, should_look,
};
pub use liveness::{Liveness, LivenessFacts, STUCK_AFTER, WorkingRun, liveness};
pub use overrides::GuardianOverride;
