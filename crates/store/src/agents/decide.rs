//! The rules of agents, written once for both databases: a patch changes
//! only a live agent, archiving happens once, and a live agent's name is
//! its own. Each backend loads the agent (and the name's holder) and applies.

use steward_domain::{Agent, AgentId, AgentPatch, AgentStatus};

use crate::{StoreError, rules};

/// `agent` with `patch` applied; an archived agent is refused.
pub(crate) fn patched(mut agent: Agent, patch: &AgentPatch) -> Result<Agent, StoreError> {
    if agent.status == AgentStatus::Archived {
        return Err(rules::agent_archived(agent.id));
    }
    patch.apply_to(&mut agent);
    Ok(agent)
}

/// What archiving `agent` does: nothing when it is archived already, else
/// moves it from its status.
pub(crate) fn archiving(agent: &Agent) -> Option<AgentStatus> {
    (agent.status != AgentStatus::Archived).then_some(agent.status)
}

/// `name` is free unless a live agent other than `except` holds it
/// (`holder`: the live agent with that name, any case, as loaded).
pub(crate) fn check_name_free(
    name: &str,
    holder: Option<(AgentId, String)>,
    except: Option<AgentId>,
) -> Result<(), StoreError> {
    match holder {
        Some((id, held)) if Some(id) != except => Err(rules::agent_name_taken(name, &held, id)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use steward_domain::UserId;

    use super::*;
    use crate::ConflictKind;

    fn agent(status: AgentStatus) -> Agent {
        let at = chrono::DateTime::UNIX_EPOCH;
        Agent {
            id: AgentId(3),
            user_id: UserId(1),
            name: "Scout".into(),
            goal: "find leads".into(),
            success_criteria: Vec::new(),
            timeline: None,
            status,
            model: None,
            instructions: String::new(),
            tools: None,
            limits: Default::default(),
            budget: Default::default(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_patch_changes_only_a_live_agent() {
        let patch = AgentPatch { goal: Some("close deals".into()), ..AgentPatch::default() };
        assert_eq!(patched(agent(AgentStatus::Paused), &patch).unwrap().goal, "close deals");
        let archived = patched(agent(AgentStatus::Archived), &patch);
        assert!(matches!(archived, Err(StoreError::Conflict { kind: ConflictKind::Archived, .. })));
    }

    #[test]
    fn an_agent_is_archived_once() {
        assert_eq!(archiving(&agent(AgentStatus::Active)), Some(AgentStatus::Active));
        assert_eq!(archiving(&agent(AgentStatus::Archived)), None);
    }

    #[test]
    fn a_live_agents_name_is_its_own() {
        assert!(check_name_free("scout", None, None).is_ok());
        assert!(check_name_free("scout", Some((AgentId(3), "Scout".into())), Some(AgentId(3))).is_ok());
        let taken = check_name_free("scout", Some((AgentId(3), "Scout".into())), Some(AgentId(4)));
        assert!(matches!(taken, Err(StoreError::Conflict { field: Some(field), .. }) if field == "name"));
    }
}
