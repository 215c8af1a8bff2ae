//! Compares two parity models and says every difference in one line a
//! person can act on ("table `runs`: column `foo` only in postgres"). The
//! lines are also the keys of the allow-list of deliberate differences.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Column, Index, Schema, Table};
use super::{PairedColumns, TIME_COLUMNS_NOT_NAMED_AT, TYPE_MAPPING};

/// Every difference between the two schemas, sorted by table.
pub fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    for (name, side) in both_sides(&sqlite.tables, &postgres.tables) {
        match side {
            Side::SqliteOnly => found.push(format!("table `{name}` only in sqlite")),
            Side::PostgresOnly => found.push(format!("table `{name}` only in postgres")),
            Side::Both(sqlite, postgres) => compare_tables(name, sqlite, postgres, &mut found),
        }
    }
    found
}

enum Side<'a, T> {
    SqliteOnly,
    PostgresOnly,
    Both(&'a T, &'a T),
}

fn both_sides<'a, T>(
    sqlite: &'a BTreeMap<String, T>,
    postgres: &'a BTreeMap<String, T>,
) -> Vec<(&'a str, Side<'a, T>)> {
    let names: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let side = match (sqlite.get(name), postgres.get(name)) {
                (Some(sqlite), Some(postgres)) => Side::Both(sqlite, postgres),
                (Some(_), None) => Side::SqliteOnly,
                (None, Some(_)) => Side::PostgresOnly,
                (None, None) => unreachable!("the name came from one of the maps"),
            };
            (name.as_str(), side)
        })
        .collect()
}

fn compare_tables(table: &str, sqlite: &Table, postgres: &Table, found: &mut Vec<String>) {
    for (column, side) in both_sides(&sqlite.columns, &postgres.columns) {
        match side {
            Side::SqliteOnly => found.push(format!("table `{table}`: column `{column}` only in sqlite")),
            Side::PostgresOnly => found.push(format!("table `{table}`: column `{column}` only in postgres")),
            Side::Both(sqlite, postgres) => compare_columns(table, column, sqlite, postgres, found),
        }
    }
    if sqlite.primary_key != postgres.primary_key {
        found.push(format!(
            "table `{table}`: primary key {} in sqlite, {} in postgres",
            column_list(&sqlite.primary_key),
            column_list(&postgres.primary_key)
        ));
    }
    for columns in sqlite.unique_constraints.difference(&postgres.unique_constraints) {
        found.push(format!("table `{table}`: unique constraint {} only in sqlite", column_list(columns)));
    }
    for columns in postgres.unique_constraints.difference(&sqlite.unique_constraints) {
        found.push(format!("table `{table}`: unique constraint {} only in postgres", column_list(columns)));
    }
    for (index, side) in both_sides(&sqlite.indexes, &postgres.indexes) {
        match side {
            Side::SqliteOnly => found.push(format!("table `{table}`: index `{index}` only in sqlite")),
            Side::PostgresOnly => found.push(format!("table `{table}`: index `{index}` only in postgres")),
            Side::Both(sqlite, postgres) => compare_indexes(table, index, sqlite, postgres, found),
        }
    }
    for (check, side) in multiset_difference(&sqlite.checks, &postgres.checks) {
        found.push(format!("table `{table}`: check {check} only in {side}"));
    }
    for foreign_key in sqlite.foreign_keys.difference(&postgres.foreign_keys) {
        found.push(format!("table `{table}`: foreign key {foreign_key} only in sqlite"));
    }
    for foreign_key in postgres.foreign_keys.difference(&sqlite.foreign_keys) {
        found.push(format!("table `{table}`: foreign key {foreign_key} only in postgres"));
    }
}

fn compare_columns(table: &str, column: &str, sqlite: &Column, postgres: &Column, found: &mut Vec<String>) {
    let prefix = format!("table `{table}`: column `{column}`");
    let (sqlite_type, postgres_type) = (&sqlite.declared_type, &postgres.declared_type);
    let pair = TYPE_MAPPING.iter().find(|pair| pair.sqlite == sqlite_type && pair.postgres == postgres_type);
    match pair {
        None => found.push(format!(
            "{prefix} is {sqlite_type} in sqlite and {postgres_type} in postgres, a pair the type mapping does not have"
        )),
        Some(pair) if pair.columns == PairedColumns::TimesOnly && !is_time_column(table, column) => {
            found.push(format!(
                "{prefix} is {sqlite_type} in sqlite and {postgres_type} in postgres, a pair the type mapping keeps \
                 for time columns (named `*_at`, or listed in TIME_COLUMNS_NOT_NAMED_AT)"
            ))
        }
        Some(_) => {}
    }
    if sqlite.nullable != postgres.nullable {
        let nullability = |nullable: bool| if nullable { "nullable" } else { "NOT NULL" };
        found.push(format!(
            "{prefix} is {} in sqlite, {} in postgres",
            nullability(sqlite.nullable),
            nullability(postgres.nullable)
        ));
    }
    if sqlite.collation != postgres.collation {
        let collation = |collation: &Option<String>| collation.clone().unwrap_or_else(|| "the default".into());
        found.push(format!(
            "{prefix} has collation {} in sqlite, {} in postgres",
            collation(&sqlite.collation),
            collation(&postgres.collation)
        ));
    }
    if sqlite.default != postgres.default {
        found.push(format!("{prefix} has {} in sqlite, {} in postgres", sqlite.default, postgres.default));
    }
}

fn compare_indexes(table: &str, index: &str, sqlite: &Index, postgres: &Index, found: &mut Vec<String>) {
    let prefix = format!("table `{table}`: index `{index}`");
    if sqlite.unique != postgres.unique {
        let uniqueness = |unique: bool| if unique { "unique" } else { "not unique" };
        found.push(format!(
            "{prefix} is {} in sqlite, {} in postgres",
            uniqueness(sqlite.unique),
            uniqueness(postgres.unique)
        ));
    }
    if sqlite.keys != postgres.keys {
        let keys = |index: &Index| column_list(&index.keys.iter().map(ToString::to_string).collect::<Vec<_>>());
        found.push(format!("{prefix} has keys {} in sqlite, {} in postgres", keys(sqlite), keys(postgres)));
    }
    if sqlite.predicate != postgres.predicate {
        let predicate =
            |index: &Index| index.predicate.as_ref().map_or("no WHERE clause".into(), |p| format!("WHERE {p}"));
        found.push(format!("{prefix} has {} in sqlite, {} in postgres", predicate(sqlite), predicate(postgres)));
    }
}

/// Checks are compared as multisets: a table may repeat one on purpose.
fn multiset_difference<'a>(sqlite: &'a [String], postgres: &'a [String]) -> Vec<(&'a str, &'static str)> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for check in sqlite {
        *counts.entry(check).or_default() += 1;
    }
    for check in postgres {
        *counts.entry(check).or_default() -= 1;
    }
    let mut found = Vec::new();
    for (check, count) in counts {
        let side = if count > 0 { "sqlite" } else { "postgres" };
        found.extend(std::iter::repeat_n((check, side), count.unsigned_abs() as usize));
    }
    found
}

fn is_time_column(table: &str, column: &str) -> bool {
    column.ends_with("_at") || TIME_COLUMNS_NOT_NAMED_AT.contains(&(table, column))
}

fn column_list(columns: &[String]) -> String {
    if columns.is_empty() { "none".to_string() } else { format!("({})", columns.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::super::model::{ColumnDefault, IndexKey};
    use super::*;

    fn column(declared_type: &str) -> Column {
        Column { declared_type: declared_type.into(), nullable: false, default: ColumnDefault::None, collation: None }
    }

    fn one_table(columns: &[(&str, Column)], indexes: &[(&str, Index)]) -> Schema {
        let table = Table {
            columns: columns.iter().map(|(name, column)| (name.to_string(), column.clone())).collect(),
            indexes: indexes.iter().map(|(name, index)| (name.to_string(), index.clone())).collect(),
            ..Table::default()
        };
        Schema { tables: [("runs".to_string(), table)].into() }
    }

    fn index(unique: bool) -> Index {
        let key = IndexKey { expression: "state".into(), descending: false, collation: None };
        Index { keys: vec![key], unique, predicate: None }
    }

    #[test]
    fn paired_types_and_equal_indexes_make_no_difference() {
        let sqlite = one_table(&[("id", column("INTEGER")), ("created_at", column("INTEGER"))], &[("i", index(true))]);
        let postgres = one_table(
            &[("id", column("bigint")), ("created_at", column("timestamp with time zone"))],
            &[("i", index(true))],
        );
        assert_eq!(differences(&sqlite, &postgres), Vec::<String>::new());
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        let sqlite = one_table(&[("id", column("INTEGER")), ("payload", column("TEXT"))], &[("i", index(true))]);
        let postgres = one_table(
            &[("id", column("timestamp with time zone")), ("payload", column("bigint")), ("foo", column("text"))],
            &[("i", index(false)), ("j", index(false))],
        );
        assert_eq!(
            differences(&sqlite, &postgres),
            [
                "table `runs`: column `foo` only in postgres",
                "table `runs`: column `id` is INTEGER in sqlite and timestamp with time zone in postgres, a pair the \
                 type mapping keeps for time columns (named `*_at`, or listed in TIME_COLUMNS_NOT_NAMED_AT)",
                "table `runs`: column `payload` is TEXT in sqlite and bigint in postgres, a pair the type mapping does \
                 not have",
                "table `runs`: index `i` is unique in sqlite, not unique in postgres",
                "table `runs`: index `j` only in postgres",
            ]
        );
    }
}
