//! When a run must stop: its limits (steps, tokens, cost, wall time) and its
//! agent's budgets. Checked before every step, so a run never goes more than
//! one step past a cap.

use std::time::Duration;

use steward_domain::{Budget, RunLimits, RunOutcome, RunUsage, Spend};

/// Limits with every value decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EffectiveLimits {
    /// Model calls (each model call is one step of the loop; tool calls run
    /// within the step that asked for them).
    pub max_steps: u32,
    pub max_tokens: u64,
    pub max_cost_usd: Option<f64>,
    pub max_wall_time: Duration,
}

/// The limits when neither the run nor its agent set one.
pub const DEFAULT_LIMITS: EffectiveLimits = EffectiveLimits {
    max_steps: 25,
    max_tokens: 400_000,
    max_cost_usd: None,
    max_wall_time: Duration::from_secs(30 * 60),
};

impl EffectiveLimits {
    /// The run's limits, else the agent's, else `defaults`.
    pub fn resolve(run: RunLimits, agent: RunLimits, defaults: EffectiveLimits) -> EffectiveLimits {
        let merged = run.or(agent);
        EffectiveLimits {
            max_steps: merged.max_steps.unwrap_or(defaults.max_steps),
            max_tokens: merged.max_tokens.unwrap_or(defaults.max_tokens),
            max_cost_usd: merged.max_cost_usd.or(defaults.max_cost_usd),
            max_wall_time: merged.max_wall_time.unwrap_or(defaults.max_wall_time),
        }
    }
}

/// Why the run must stop now, if it must.
#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    pub outcome: RunOutcome,
    pub reason: String,
}

/// Checks the run's own limits before its next model call.
pub fn check_limits(limits: &EffectiveLimits, usage: &RunUsage, working_time: Duration) -> Option<Stop> {
    if usage.model_calls >= limits.max_steps {
        return Some(Stop {
            outcome: RunOutcome::MaxSteps,
            reason: format!("stopped after {} steps, the run's limit", usage.model_calls),
        });
    }
    if usage.total_tokens() >= limits.max_tokens {
        return Some(Stop {
            outcome: RunOutcome::MaxTokens,
            reason: format!("used {} tokens; the run's limit is {}", usage.total_tokens(), limits.max_tokens),
        });
    }
    if let Some(max_cost) = limits.max_cost_usd
        && usage.cost_usd >= max_cost
    {
        return Some(Stop {
            outcome: RunOutcome::MaxCost,
            reason: format!("cost ${:.4}; the run's limit is ${max_cost:.4}", usage.cost_usd),
        });
    }
    if working_time >= limits.max_wall_time {
        return Some(Stop {
            outcome: RunOutcome::MaxWallTime,
            reason: format!(
                "worked for {} s; the run's limit is {} s",
                working_time.as_secs(),
                limits.max_wall_time.as_secs()
            ),
        });
    }
    None
}

/// Checks the agent's budgets before a model call. `price_known` says
/// whether the model about to be called has a price: an unknown cost cannot
/// be counted against a budget, so such a call is refused rather than
/// treated as free.
pub fn check_budget(budget: &Budget, today: Spend, total: Spend, model: &str, price_known: bool) -> Option<Stop> {
    if budget.is_unlimited() {
        return None;
    }
    if !price_known {
        return Some(Stop {
            outcome: RunOutcome::Failed,
            reason: format!(
                "the agent has a budget, but the price of {model} is unknown, so its cost cannot be counted; \
                 add its price under [llm.prices] or choose a model with a known price"
            ),
        });
    }
    if let Some(daily) = budget.daily_usd
        && today.cost_usd >= daily
    {
        return Some(Stop {
            outcome: RunOutcome::BudgetExceeded,
            reason: format!("the agent spent ${:.4} today; its daily budget is ${daily:.2}", today.cost_usd),
        });
    }
    if let Some(total_budget) = budget.total_usd
        && total.cost_usd >= total_budget
    {
        return Some(Stop {
            outcome: RunOutcome::BudgetExceeded,
            reason: format!("the agent spent ${:.4} in total; its budget is ${total_budget:.2}", total.cost_usd),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(model_calls: u32, tokens: u64, cost: f64) -> RunUsage {
        RunUsage { model_calls, input_tokens: tokens, cost_usd: cost, ..RunUsage::default() }
    }

    #[test]
    fn the_run_then_the_agent_then_the_defaults() {
        let run = RunLimits { max_steps: Some(3), ..RunLimits::default() };
        let agent = RunLimits { max_steps: Some(9), max_cost_usd: Some(1.0), ..RunLimits::default() };
        let limits = EffectiveLimits::resolve(run, agent, DEFAULT_LIMITS);
        assert_eq!(limits.max_steps, 3);
        assert_eq!(limits.max_cost_usd, Some(1.0));
        assert_eq!(limits.max_tokens, DEFAULT_LIMITS.max_tokens);
    }

    #[test]
    fn each_limit_stops_with_its_own_outcome() {
        let limits = EffectiveLimits {
            max_steps: 2,
            max_tokens: 100,
            max_cost_usd: Some(0.5),
            max_wall_time: Duration::from_secs(60),
        };
        let ok = Duration::from_secs(1);
        assert_eq!(check_limits(&limits, &usage(1, 10, 0.1), ok), None);
        assert_eq!(check_limits(&limits, &usage(2, 10, 0.1), ok).unwrap().outcome, RunOutcome::MaxSteps);
        assert_eq!(check_limits(&limits, &usage(1, 100, 0.1), ok).unwrap().outcome, RunOutcome::MaxTokens);
        assert_eq!(check_limits(&limits, &usage(1, 10, 0.5), ok).unwrap().outcome, RunOutcome::MaxCost);
        let late = check_limits(&limits, &usage(1, 10, 0.1), Duration::from_secs(61)).unwrap();
        assert_eq!(late.outcome, RunOutcome::MaxWallTime);
    }

    #[test]
    fn budgets_stop_at_the_cap_and_refuse_unknown_prices() {
        let budget = Budget { daily_usd: Some(1.0), total_usd: Some(5.0) };
        let spend = |cost| Spend { cost_usd: cost, unknown_cost_calls: 0 };
        assert_eq!(check_budget(&budget, spend(0.9), spend(4.0), "m", true), None);
        assert_eq!(
            check_budget(&budget, spend(1.0), spend(4.0), "m", true).unwrap().outcome,
            RunOutcome::BudgetExceeded
        );
        assert_eq!(
            check_budget(&budget, spend(0.1), spend(5.2), "m", true).unwrap().outcome,
            RunOutcome::BudgetExceeded
        );
        let unknown = check_budget(&budget, spend(0.0), spend(0.0), "ollama/llama3.2", false).unwrap();
        assert_eq!(unknown.outcome, RunOutcome::Failed);
        assert!(unknown.reason.contains("ollama/llama3.2"));
        assert_eq!(check_budget(&Budget::default(), spend(9.0), spend(9.0), "m", false), None, "no budget, no check");
    }
}
