//! Reads a migrated SQLite database into the parity model: tables from
//! `sqlite_master`, columns from `pragma table_xinfo`, indexes from
//! `index_list`/`index_xinfo` (expressions and WHERE clauses from the
//! stored CREATE INDEX), CHECK constraints from the stored CREATE TABLE, and
//! foreign keys from `pragma foreign_key_list`.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sqlparser::ast::{ColumnOption, CreateIndex, CreateTable, Statement, TableConstraint};
use sqlparser::parser::Parser;

use super::expression::{self, Canonical, SqlDialect};
use super::model::{Column, ColumnDefault, ForeignKey, Index, IndexKey, Schema, Table};

pub fn introspect(database: &Path) -> Schema {
    let connection = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    // Virtual tables (full-text search) have no PostgreSQL twin to compare
    // their inside with: only their name is kept, so each one stands in the
    // allow-list. Their shadow tables are part of them and are left out.
    let tables: Vec<(String, String, bool, String)> = connection
        .prepare(
            "SELECT list.name, list.type, list.wr, master.sql FROM pragma_table_list AS list
             JOIN sqlite_master AS master ON master.name = list.name AND master.type = 'table'
             WHERE list.schema = 'main' AND list.type IN ('table', 'virtual') AND list.name NOT LIKE 'sqlite_%'",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut schema = Schema::default();
    for (name, kind, without_rowid, sql) in tables {
        let table =
            if kind == "virtual" { Table::default() } else { read_table(&connection, &name, without_rowid, &sql) };
        schema.tables.insert(name.to_lowercase(), table);
    }
    resolve_implicit_references(&mut schema);
    schema
}

fn read_table(connection: &Connection, table_name: &str, without_rowid: bool, sql: &str) -> Table {
    let mut table = Table::default();

    // (name, declared type, notnull, default, position in the primary key)
    let columns: Vec<(String, String, bool, Option<String>, i64)> = connection
        .prepare("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1) ORDER BY cid")
        .unwrap()
        .query_map([table_name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut primary_key: Vec<(i64, String)> =
        columns.iter().filter(|column| column.4 > 0).map(|column| (column.4, column.0.to_lowercase())).collect();
    primary_key.sort();
    table.primary_key = primary_key.into_iter().map(|(_, name)| name).collect();

    let no_booleans = BTreeSet::new();
    let canonical = Canonical { boolean_columns: &no_booleans };
    for (name, declared_type, not_null, default, primary_key_position) in columns {
        let declared_type = declared_type.to_uppercase();
        // An INTEGER PRIMARY KEY of a rowid table is the rowid: never NULL,
        // assigned by SQLite when an insert leaves it out.
        let is_rowid_alias = declared_type == "INTEGER" && table.primary_key.len() == 1 && primary_key_position == 1;
        let is_rowid_alias = is_rowid_alias && !without_rowid;
        let default = match default {
            _ if is_rowid_alias => ColumnDefault::GeneratedKey,
            Some(text) => ColumnDefault::Expression(canonical.value(&expression::parse(SqlDialect::Sqlite, &text))),
            None => ColumnDefault::None,
        };
        let key_is_not_null = is_rowid_alias || (primary_key_position > 0 && without_rowid);
        table.columns.insert(
            name.to_lowercase(),
            Column { declared_type, nullable: !not_null && !key_is_not_null, default, collation: None },
        );
    }

    let definition = parse_create_table(sql);
    for column in &definition.columns {
        for option in &column.options {
            match &option.option {
                ColumnOption::Check(check) => table.checks.push(canonical.condition(&check.expr)),
                ColumnOption::Collation(collation) => {
                    let column = table.columns.get_mut(&column.name.value.to_lowercase()).unwrap();
                    column.collation = not_binary(&collation.to_string());
                }
                _ => {}
            }
        }
    }
    for constraint in &definition.constraints {
        if let TableConstraint::Check(check) = constraint {
            table.checks.push(canonical.condition(&check.expr));
        }
    }
    table.checks.sort();

    read_indexes(connection, table_name, &canonical, &mut table);
    table.foreign_keys = read_foreign_keys(connection, table_name);
    table
}

/// Parses a stored CREATE TABLE. The table options after the last
/// parenthesis (`STRICT`, `WITHOUT ROWID`) are cut off first: they are read
/// from `pragma table_list`, and not every sqlparser release knows them.
fn parse_create_table(sql: &str) -> CreateTable {
    let end_of_definition = sql.rfind(')').map_or(sql.len(), |position| position + 1);
    let statements = Parser::parse_sql(SqlDialect::Sqlite.parser_dialect(), &sql[..end_of_definition])
        .unwrap_or_else(|error| panic!("cannot parse the stored table definition {sql:?}: {error}"));
    match statements.into_iter().next() {
        Some(Statement::CreateTable(definition)) => definition,
        other => panic!("expected CREATE TABLE, found {other:?}"),
    }
}

fn parse_create_index(sql: &str) -> CreateIndex {
    let statements = Parser::parse_sql(SqlDialect::Sqlite.parser_dialect(), sql)
        .unwrap_or_else(|error| panic!("cannot parse the stored index definition {sql:?}: {error}"));
    match statements.into_iter().next() {
        Some(Statement::CreateIndex(definition)) => definition,
        other => panic!("expected CREATE INDEX, found {other:?}"),
    }
}

fn read_indexes(connection: &Connection, table_name: &str, canonical: &Canonical<'_>, table: &mut Table) {
    // origin: `c` made by CREATE INDEX, `u` by a UNIQUE constraint, `pk` by
    // the primary key (read from the columns above).
    let indexes: Vec<(String, bool, String)> = connection
        .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
        .unwrap()
        .query_map([table_name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (index_name, unique, origin) in indexes {
        // (column number, column name, descending, collation); the number is
        // -2 for an expression, whose text only the stored CREATE INDEX has.
        let keys: Vec<(i64, Option<String>, bool, String)> = connection
            .prepare("SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")
            .unwrap()
            .query_map([&index_name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        match origin.as_str() {
            "pk" => {}
            "u" => {
                let columns =
                    keys.iter().map(|(_, name, _, _)| name.clone().unwrap_or_default().to_lowercase()).collect();
                table.unique_constraints.insert(columns);
            }
            _ => {
                let sql: Option<String> = connection
                    .query_row(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                        [&index_name],
                        |row| row.get(0),
                    )
                    .optional()
                    .unwrap()
                    .flatten();
                let definition = parse_create_index(&sql.unwrap_or_else(|| panic!("index {index_name} has no SQL")));
                let keys = keys
                    .iter()
                    .zip(&definition.columns)
                    .map(|((column_number, name, descending, collation), written)| IndexKey {
                        expression: match (column_number, name) {
                            (-2, _) | (_, None) => canonical.value(&written.column.expr),
                            (_, Some(name)) => name.to_lowercase(),
                        },
                        descending: *descending,
                        collation: not_binary(collation),
                    })
                    .collect();
                let predicate = definition.predicate.as_ref().map(|predicate| canonical.condition(predicate));
                table.indexes.insert(index_name.to_lowercase(), Index { keys, unique, predicate });
            }
        }
    }
}

fn read_foreign_keys(connection: &Connection, table_name: &str) -> BTreeSet<ForeignKey> {
    // One row per column: (constraint id, referenced table, column,
    // referenced column or NULL for the referenced table's primary key,
    // on update, on delete).
    let rows: Vec<(i64, String, String, Option<String>, String, String)> = connection
        .prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .unwrap()
        .query_map([table_name], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut foreign_keys = BTreeSet::new();
    let mut rows = rows.into_iter().peekable();
    while let Some((id, referenced_table, column, referenced_column, on_update, on_delete)) = rows.next() {
        let mut foreign_key = ForeignKey {
            columns: vec![column.to_lowercase()],
            referenced_table: referenced_table.to_lowercase(),
            referenced_columns: referenced_column.into_iter().map(|name| name.to_lowercase()).collect(),
            on_update: on_update.to_lowercase(),
            on_delete: on_delete.to_lowercase(),
        };
        while let Some((_, _, column, referenced_column, _, _)) = rows.next_if(|row| row.0 == id) {
            foreign_key.columns.push(column.to_lowercase());
            foreign_key.referenced_columns.extend(referenced_column.map(|name| name.to_lowercase()));
        }
        foreign_keys.insert(foreign_key);
    }
    foreign_keys
}

/// SQLite's default collation is `BINARY`; any other is named.
fn not_binary(collation: &str) -> Option<String> {
    let collation = collation.trim_matches('"').to_lowercase();
    (collation != "binary").then_some(collation)
}

/// `REFERENCES users` without a column list means the referenced table's
/// primary key, which only the whole schema knows.
fn resolve_implicit_references(schema: &mut Schema) {
    let primary_keys: Vec<(String, Vec<String>)> =
        schema.tables.iter().map(|(name, table)| (name.clone(), table.primary_key.clone())).collect();
    for table in schema.tables.values_mut() {
        table.foreign_keys = std::mem::take(&mut table.foreign_keys)
            .into_iter()
            .map(|mut foreign_key| {
                if foreign_key.referenced_columns.is_empty()
                    && let Some((_, key)) = primary_keys.iter().find(|(name, _)| *name == foreign_key.referenced_table)
                {
                    foreign_key.referenced_columns = key.clone();
                }
                foreign_key
            })
            .collect();
    }
}
