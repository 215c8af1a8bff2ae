-- The agent runtime (issue #4): agents gain a tool allowlist, run limits and
-- budgets.

-- JSON array of tool names; NULL means the default set.
ALTER TABLE agents ADD COLUMN tools TEXT;
ALTER TABLE agents ADD COLUMN max_steps INTEGER;
ALTER TABLE agents ADD COLUMN max_tokens INTEGER;
ALTER TABLE agents ADD COLUMN max_cost_usd REAL;
ALTER TABLE agents ADD COLUMN max_wall_secs INTEGER;
ALTER TABLE agents ADD COLUMN budget_daily_usd REAL;
ALTER TABLE agents ADD COLUMN budget_total_usd REAL;
