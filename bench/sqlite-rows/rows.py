"""What one event row costs SQLite by the way a batch reaches it.

Applies Steward's SQLite migrations to a scratch file, then appends batches
of 64 `job.completed` events three ways and prints CPU time per row:

- json_each: one JSON array, read back with `value ->> n` (before 2026-12-07);
- values:    one multi-row VALUES list of bound parameters (now);
- one_by_one: a cached single-row INSERT per event.

Needs SQLite >= 3.45 (the migrations use unixepoch('subsec')); Python's own
may be older, so this uses sqlean.py:

    pip install sqlean.py==3.50.4.5
    python3 bench/sqlite-rows/rows.py [--batches 200] [--rounds 3]
"""
import argparse
import glob
import json
import os
import tempfile
import time

import sqlean as sqlite3

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = sorted(glob.glob(os.path.join(HERE, '..', '..', 'crates', 'store', 'migrations', 'sqlite', '*.sql')))
COLUMNS = 'user_id, occurred_at, kind, subject, subject_id, data, actor_user_id, actor_token_id'
BATCH = 64


def scratch(directory):
    connection = sqlite3.connect(os.path.join(directory, 'rows.db'), isolation_level=None)
    for pragma in ('journal_mode=WAL', 'synchronous=NORMAL', 'foreign_keys=ON', 'cache_size=-8192'):
        connection.execute(f'PRAGMA {pragma}')
    for migration in MIGRATIONS:
        with open(migration) as sql:
            connection.executescript(sql.read())
    return connection


# Each way: (prepare the batch's arguments, untimed; append them, timed).
def json_each():
    sql = (f'INSERT INTO events ({COLUMNS}) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, '
           'value ->> 4, value -> 5, NULL, NULL FROM json_each(?1) ORDER BY key')
    return (lambda rows: (json.dumps([[u, at, k, s, i, json.loads(d)] for u, at, k, s, i, d in rows]),),
            lambda connection, array: connection.execute(sql, array))


def values():
    sql = f'INSERT INTO events ({COLUMNS}) VALUES ' + ', '.join(['(?, ?, ?, ?, ?, ?, NULL, NULL)'] * BATCH)
    return (lambda rows: [v for row in rows for v in row],
            lambda connection, flat: connection.execute(sql, flat))


def one_by_one():
    sql = f'INSERT INTO events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)'
    return (lambda rows: rows, lambda connection, rows: connection.executemany(sql, rows))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batches', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        connection = scratch(directory)
        print(f'SQLite {sqlite3.sqlite_version}, batches of {BATCH} events, CPU per row (µs)')
        print('| round | json_each | values | one_by_one |')
        print('|---|---|---|---|')
        for round_number in range(1, args.rounds + 1):
            cells = []
            for way in (json_each, values, one_by_one):
                prepare, append = way()
                rows = [(1, 1_700_000_000_000_000 + n, 'job.completed', 'job', n, '{"attempt":1}')
                        for n in range(args.batches * BATCH)]
                batches = [prepare(rows[first:first + BATCH]) for first in range(0, len(rows), BATCH)]
                connection.execute('BEGIN')
                started = time.process_time()
                for batch in batches:
                    append(connection, batch)
                spent = time.process_time() - started
                connection.execute('COMMIT')
                cells.append(f'{spent / len(rows) * 1e6:.2f}')
            print(f'| {round_number} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
