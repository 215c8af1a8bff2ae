-- Routines fire from Slack slash commands and from another routine's
-- completion too.

ALTER TABLE routine_fires DROP CONSTRAINT routine_fires_trigger_check;
ALTER TABLE routine_fires ADD CONSTRAINT routine_fires_trigger_check
    CHECK (trigger IN ('manual', 'schedule', 'webhook', 'slack', 'routine', 'replay'));
