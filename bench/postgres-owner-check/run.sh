#!/usr/bin/env bash
# What a job's owner check costs PostgreSQL per inserted job: the foreign key
# of migrations 1-29 against the statement triggers of migration 30.
#
# Builds two scratch schemas from Steward's PostgreSQL migrations (one up to
# 29, one with every migration), then, alternating, inserts jobs of the
# local owner in statements of 1, 8 and 1,000 jobs, and prints the server
# time per job (psql's \timing of a server-side loop, so no round trips).
#
#   bash bench/postgres-owner-check/run.sh [postgres://postgres@127.0.0.1:5432/test] [rounds]
set -euo pipefail

url=${1:-postgres://postgres@127.0.0.1:5432/test}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
migrations="$here/../../crates/store/migrations/postgres"
psql_quiet() { psql "$url" -qX -v ON_ERROR_STOP=1 "$@"; }

build_schema() { # name, migration files...
    local name=$1
    shift
    {
        echo "DROP SCHEMA IF EXISTS $name CASCADE; CREATE SCHEMA $name; SET search_path = $name;"
        for file in "$@"; do cat "$file"; echo; done
    } | psql_quiet >/dev/null 2>&1
}

with_key=(); with_triggers=()
for file in "$migrations"/*.sql; do
    with_triggers+=("$file")
    [[ $(basename "$file") < 0030 ]] && with_key+=("$file")
done
build_schema owner_check_key "${with_key[@]}"
build_schema owner_check_triggers "${with_triggers[@]}"
trap 'psql_quiet -c "DROP SCHEMA owner_check_key CASCADE" -c "DROP SCHEMA owner_check_triggers CASCADE" 2>/dev/null' EXIT

psql_quiet <<'SQL'
CREATE OR REPLACE PROCEDURE owner_check_key.insert_jobs(schema text, statements int, per_statement int)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', schema, true);
    FOR i IN 1..statements LOOP
        INSERT INTO jobs (user_id, queue, kind, payload, priority, state, run_at, max_attempts, timeout_ms,
                          pending_dependencies, has_dependents, created_at, updated_at)
        SELECT 1, 'default', 'noop', '{}'::jsonb, 0, 'queued', now(), 3, 60000, 0, false, now(), now()
        FROM generate_series(1, per_statement);
    END LOOP;
END $$;
SQL

# Microseconds per job for one call: schema, statements, jobs per statement.
per_job() {
    local ms
    ms=$(psql_quiet -c '\timing on' -c "CALL owner_check_key.insert_jobs('$1', $2, $3)" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
    python3 -c "print(f'{$ms * 1000 / ($2 * $3):.2f}')"
}

printf '| jobs per statement | round | foreign key (µs/job) | statement triggers (µs/job) |\n|---|---|---|---|\n'
for size in "1 5000" "8 2000" "1000 100"; do
    read -r per statements <<<"$size"
    for round in $(seq 1 "$rounds"); do
        key=$(per_job owner_check_key "$statements" "$per")
        triggers=$(per_job owner_check_triggers "$statements" "$per")
        printf '| %s | %s | %s | %s |\n' "$per" "$round" "$key" "$triggers"
    done
done
