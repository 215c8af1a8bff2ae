//! Reads a migrated PostgreSQL schema (the connection's `current_schema()`)
//! into the parity model, from the catalogs: `pg_attribute` and
//! `pg_attrdef` for columns, `pg_constraint` for primary keys, UNIQUE,
//! CHECK and foreign keys, `pg_index` for the other indexes (keys through
//! `pg_get_indexdef`, order from `indoption`, WHERE clause from `indpred`).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgConnection;

use super::expression::{self, Canonical, SqlDialect};
use super::model::{Column, ColumnDefault, ForeignKey, Index, IndexKey, Schema, Table};

const TABLES: &str = "
    SELECT c.relname::text FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')";

const COLUMNS: &str = "
    SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid, true), a.attidentity IN ('a', 'd'), named_collation.collname::text
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    LEFT JOIN pg_collation named_collation ON named_collation.oid = a.attcollation AND named_collation.collname <> 'default'
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
      AND a.attnum > 0 AND NOT a.attisdropped";

/// Column lists in key order: `conkey`/`confkey` are attribute numbers.
const CONSTRAINTS: &str = "
    SELECT c.relname::text, k.contype::text,
           ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, position)
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.position),
           f.relname::text,
           ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, position)
                 JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.position),
           k.confupdtype::text, k.confdeltype::text, pg_get_expr(k.conbin, k.conrelid, true)
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    LEFT JOIN pg_class f ON f.oid = k.confrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND k.contype IN ('p', 'u', 'f', 'c')";

/// Indexes that back no constraint (those are read as constraints above).
/// Bit 0 of `indoption` is DESC; `pg_get_indexdef(…, key, …)` prints one
/// key's column or expression without its order or collation, which
/// `indcollation` has (0 for types without one).
const INDEXES: &str = "
    SELECT t.relname::text, i.relname::text, x.indisunique,
           ARRAY(SELECT pg_get_indexdef(x.indexrelid, key, true)
                 FROM generate_series(1, x.indnkeyatts::int) AS key ORDER BY key),
           ARRAY(SELECT (x.indoption[key - 1]::int & 1) = 1
                 FROM generate_series(1, x.indnkeyatts::int) AS key ORDER BY key),
           ARRAY(SELECT coalesce(named_collation.collname::text, '')
                 FROM generate_series(1, x.indnkeyatts::int) AS key
                 LEFT JOIN pg_collation named_collation
                        ON named_collation.oid = x.indcollation[key - 1] AND named_collation.collname <> 'default'
                 ORDER BY key),
           pg_get_expr(x.indpred, x.indrelid, true)
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    WHERE t.relnamespace = current_schema()::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                      WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))";

type ColumnRow = (String, String, String, bool, Option<String>, bool, Option<String>);
type ConstraintRow = (String, String, Vec<String>, Option<String>, Vec<String>, String, String, Option<String>);
type IndexRow = (String, String, bool, Vec<String>, Vec<bool>, Vec<String>, Option<String>);

pub async fn introspect(connection: &mut PgConnection) -> Schema {
    let tables: Vec<(String,)> = sqlx::query_as(TABLES).fetch_all(&mut *connection).await.unwrap();
    let columns: Vec<ColumnRow> = sqlx::query_as(COLUMNS).fetch_all(&mut *connection).await.unwrap();
    let constraints: Vec<ConstraintRow> = sqlx::query_as(CONSTRAINTS).fetch_all(&mut *connection).await.unwrap();
    let indexes: Vec<IndexRow> = sqlx::query_as(INDEXES).fetch_all(&mut *connection).await.unwrap();

    let mut schema = Schema::default();
    for (name,) in tables {
        schema.tables.insert(name, Table::default());
    }
    // Booleans are compared as SQLite's 0/1, so each table's expressions
    // need to know which of its columns are booleans.
    let mut boolean_columns: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column, declared_type, ..) in &columns {
        if declared_type == "boolean" {
            boolean_columns.entry(table.clone()).or_default().insert(column.clone());
        }
    }
    let no_booleans = BTreeSet::new();
    let canonical_for = |table: &str| Canonical { boolean_columns: boolean_columns.get(table).unwrap_or(&no_booleans) };

    for (table_name, name, declared_type, not_null, default, is_identity, collation) in columns {
        let default = match default {
            _ if is_identity => ColumnDefault::GeneratedKey,
            Some(text) if text.starts_with("nextval(") => ColumnDefault::GeneratedKey,
            Some(text) => ColumnDefault::Expression(
                canonical_for(&table_name).value(&expression::parse(SqlDialect::Postgres, &text)),
            ),
            None => ColumnDefault::None,
        };
        let table = schema.tables.get_mut(&table_name).unwrap();
        let collation = collation.map(|name| name.to_lowercase());
        table.columns.insert(name, Column { declared_type, nullable: !not_null, default, collation });
    }

    for (table_name, kind, columns, referenced_table, referenced_columns, on_update, on_delete, check) in constraints {
        let canonical = canonical_for(&table_name);
        let table = schema.tables.get_mut(&table_name).unwrap();
        match kind.as_str() {
            "p" => table.primary_key = columns,
            "u" => {
                table.unique_constraints.insert(columns);
            }
            "f" => {
                table.foreign_keys.insert(ForeignKey {
                    columns,
                    referenced_table: referenced_table.unwrap_or_default(),
                    referenced_columns,
                    on_update: referential_action(&on_update),
                    on_delete: referential_action(&on_delete),
                });
            }
            _ => {
                let check = check.unwrap_or_else(|| panic!("CHECK constraint on {table_name} without an expression"));
                table.checks.push(canonical.condition(&expression::parse(SqlDialect::Postgres, &check)));
            }
        }
    }

    for (table_name, index_name, unique, keys, descending, collations, predicate) in indexes {
        let canonical = canonical_for(&table_name);
        let keys = keys
            .iter()
            .zip(descending)
            .zip(collations)
            .map(|((key, descending), collation)| IndexKey {
                expression: canonical.value(&expression::parse(SqlDialect::Postgres, key)),
                descending,
                collation: (!collation.is_empty()).then(|| collation.to_lowercase()),
            })
            .collect();
        let predicate =
            predicate.map(|predicate| canonical.condition(&expression::parse(SqlDialect::Postgres, &predicate)));
        let table = schema.tables.get_mut(&table_name).unwrap();
        table.indexes.insert(index_name, Index { keys, unique, predicate });
    }

    for table in schema.tables.values_mut() {
        table.checks.sort();
    }
    schema
}

/// `pg_constraint`'s one-letter codes, spelled as SQLite's pragma spells them.
fn referential_action(code: &str) -> String {
    match code {
        "a" => "no action",
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        other => panic!("unknown referential action {other:?}"),
    }
    .to_string()
}
