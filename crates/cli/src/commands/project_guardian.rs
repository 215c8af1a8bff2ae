//! A project's guardian policy from the command line: the `--guardian…`
//! flags of `steward project new` and `steward project policy ID`, which
//! shows the policy or changes the fields given (project > agent >
//! global: a field left unset falls back to the agent's, then the
//! configured `[oversight]` one).

use steward_server::api::GuardianPolicyBody;
use steward_server::api::projects::ProjectResponse;

use crate::client::ApiClient;
use crate::output::{self, print_json, say};

#[derive(Clone, Debug, Default, clap::Args)]
pub struct GuardianFlags {
    /// Whether the guardian looks at the project's runs (on or off; the agent's or configured setting by default).
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub guardian: Option<bool>,
    /// The guardian's alignment thresholds for steer, pause and cancel (0 to 1, descending), e.g. 0.8,0.5,0.3.
    #[arg(long = "guardian-thresholds", value_name = "STEER,PAUSE,CANCEL", value_parser = parse_thresholds)]
    pub thresholds: Option<[f64; 3]>,
    /// Whether the guardian pauses a run without asking anyone (else it only proposes the pause).
    #[arg(long = "guardian-auto-pause", value_name = "true|false")]
    pub auto_pause: Option<bool>,
    /// Whether the guardian cancels a run without asking anyone (else a person approves the cancel).
    #[arg(long = "guardian-auto-cancel", value_name = "true|false")]
    pub auto_cancel: Option<bool>,
}

impl GuardianFlags {
    /// `current` with the flags given.
    pub fn over(&self, current: GuardianPolicyBody) -> GuardianPolicyBody {
        let [steer, pause, cancel] = self.thresholds.map_or([None; 3], |values| values.map(Some));
        let thresholds = self.thresholds.is_some();
        GuardianPolicyBody {
            guardian: self.guardian.or(current.guardian),
            steer_below: if thresholds { steer } else { current.steer_below },
            pause_below: if thresholds { pause } else { current.pause_below },
            cancel_below: if thresholds { cancel } else { current.cancel_below },
            auto_pause: self.auto_pause.or(current.auto_pause),
            auto_cancel: self.auto_cancel.or(current.auto_cancel),
        }
    }

    fn is_empty(&self) -> bool {
        self.guardian.is_none() && self.thresholds.is_none() && self.auto_pause.is_none() && self.auto_cancel.is_none()
    }
}

fn parse_on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => Err(format!("{text:?} is neither on nor off")),
    }
}

fn parse_thresholds(text: &str) -> Result<[f64; 3], String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|part| part.trim().parse::<f64>().map_err(|_| format!("{part:?} is not a number")))
        .collect::<Result<_, _>>()?;
    <[f64; 3]>::try_from(values).map_err(|_| format!("{text:?}: write three numbers, STEER,PAUSE,CANCEL"))
}

/// `steward project policy ID [flags] [--clear]`: shows the project's
/// guardian policy, or changes it (the flags given over the current one,
/// or over none with `--clear`).
pub async fn policy(client: &ApiClient, id: i64, flags: &GuardianFlags, clear: bool, json: bool) -> anyhow::Result<()> {
    let current = client.get::<ProjectResponse>(&format!("/projects/{id}"), &[]).await?;
    let reply = if flags.is_empty() && !clear {
        current
    } else {
        let base = if clear { GuardianPolicyBody::default() } else { current.body.guardian };
        client.put::<_, ProjectResponse>(&format!("/projects/{id}/guardian"), &flags.over(base)).await?
    };
    if json {
        print_json(&reply.raw["guardian"]);
        return Ok(());
    }
    print_policy(id, &reply.body.guardian);
    Ok(())
}

/// The policy in a line (`off`, `auto_cancel=true`…), `None` when it changes nothing.
pub fn summary(policy: &GuardianPolicyBody) -> Option<String> {
    let value = serde_json::to_value(policy).ok()?;
    let fields = value.as_object()?;
    let parts: Vec<String> = fields.iter().map(|(name, value)| format!("{name}={value}")).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn print_policy(id: i64, policy: &GuardianPolicyBody) {
    let set = |value: Option<String>| value.unwrap_or_else(|| "(agent's or configured)".into());
    let thresholds = match (policy.steer_below, policy.pause_below, policy.cancel_below) {
        (Some(steer), Some(pause), Some(cancel)) => {
            Some(format!("steer < {steer}, pause < {pause}, cancel < {cancel}"))
        }
        _ => None,
    };
    let record = output::record(vec![
        ("Project", id.to_string()),
        ("Guardian", set(policy.guardian.map(|on| if on { "on" } else { "off" }.to_string()))),
        ("Thresholds", set(thresholds)),
        ("Auto pause", set(policy.auto_pause.map(|value| value.to_string()))),
        ("Auto cancel", set(policy.auto_cancel.map(|value| value.to_string()))),
    ]);
    say!("{record}");
}
