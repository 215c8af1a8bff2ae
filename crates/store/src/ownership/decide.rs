//! The table that holds each kind of owned resource, written once for both
//! databases (every one has an `id` and a `user_id` column).

use steward_domain::access::ResourceKind;

pub(crate) fn table_of(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Agent => "agents",
        ResourceKind::Action => "actions",
        ResourceKind::Run => "runs",
        ResourceKind::Approval => "approvals",
        ResourceKind::Job => "jobs",
        ResourceKind::Schedule => "schedules",
        ResourceKind::Delivery => "deliveries",
        ResourceKind::Artifact => "artifacts",
        ResourceKind::Conversation => "conversations",
        ResourceKind::Fact => "memory_facts",
        ResourceKind::Token => "api_tokens",
        ResourceKind::Routine => "routines",
        ResourceKind::Fire => "routine_fires",
        ResourceKind::Project => "projects",
        ResourceKind::Idea => "ideas",
        ResourceKind::Duplicate => "duplicates",
    }
}
