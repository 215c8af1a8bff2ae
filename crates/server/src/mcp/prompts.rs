//! The MCP server's prompts: the user's routines, each rendered as its
//! routine would render it now (its sources read, nothing sent), and the
//! built-in routine templates as written (`template.<name>`). The optional
//! `input` argument is the text a trigger would give the template.

use rmcp::ErrorData;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage, Role,
};
use serde_json::Value;
use steward_domain::auth::Principal;
use steward_domain::routine::FireTrigger;
use steward_runtime::routines::FireRequest;
use steward_runtime::routines::templates::BUILTINS;

use crate::AppState;
use crate::error::ApiError;

/// Built-in templates are named with this prefix, so they never clash
/// with a routine's name.
const TEMPLATE_PREFIX: &str = "template.";

fn input_argument() -> PromptArgument {
    PromptArgument::new("input")
        .with_description("Text given with the trigger (the template's `input`).")
        .with_required(false)
}

pub(super) async fn list(state: &AppState, principal: &Principal) -> Result<ListPromptsResult, ErrorData> {
    let routines = state
        .store
        .list_routines(principal.user.into())
        .await
        .map_err(|error| ErrorData::internal_error(ApiError::from(error).to_string(), None))?;
    let mut prompts: Vec<Prompt> = routines
        .into_iter()
        .map(|routine| {
            let description = format!("The prompt of the routine {}, with its sources read now.", routine.name);
            Prompt::new(routine.name, Some(description), Some(vec![input_argument()]))
        })
        .collect();
    prompts.extend(BUILTINS.iter().map(|template| {
        let description = format!("The built-in routine template {}: {}.", template.name, template.description);
        Prompt::new(format!("{TEMPLATE_PREFIX}{}", template.name), Some(description), None)
    }));
    Ok(ListPromptsResult::with_all_items(prompts))
}

pub(super) async fn get(
    state: &AppState,
    principal: &Principal,
    request: GetPromptRequestParams,
) -> Result<GetPromptResult, ErrorData> {
    if let Some(name) = request.name.strip_prefix(TEMPLATE_PREFIX)
        && let Some(template) = BUILTINS.iter().find(|template| template.name == name)
    {
        return Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, template.text)])
            .with_description(template.description));
    }
    let routine = state.store.find_routine(principal.user, &request.name).await.map_err(|error| {
        ErrorData::invalid_params(
            format!("no prompt named {:?}: {}", request.name, ApiError::from(error).message),
            None,
        )
    })?;
    let mut fire = FireRequest::new(FireTrigger::Manual);
    fire.input = request
        .arguments
        .and_then(|arguments| arguments.get("input").cloned())
        .filter(|input| !matches!(input, Value::Null));
    let preview = state
        .routines()
        .preview(principal.user, &routine, &fire)
        .await
        .map_err(|error| ErrorData::internal_error(ApiError::from(error).to_string(), None))?;
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, preview.prompt)])
        .with_description(format!("The routine {}'s prompt, rendered now.", routine.name)))
}
