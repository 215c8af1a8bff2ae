-- Spending survives crashes (issue #11). A model call is recorded on its run
-- as started before it is sent; storing its reply clears the record. A run
-- resumed or finished with the record still set stores the call as an
-- interrupted model-call step with estimated input tokens and cost, counted
-- in the run's totals (and so in budgets) and in estimated_calls.
ALTER TABLE runs ADD COLUMN estimated_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN call_started_sequence INTEGER;
ALTER TABLE runs ADD COLUMN call_started_model TEXT;
ALTER TABLE runs ADD COLUMN call_started_input_tokens INTEGER;
ALTER TABLE runs ADD COLUMN call_started_cost_usd REAL;
ALTER TABLE runs ADD COLUMN call_started_at INTEGER;
