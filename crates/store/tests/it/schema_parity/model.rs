//! The schema of one database as the parity test sees it: what a migration
//! can change, in a form both introspections produce, so the two can be
//! compared field by field. Names are lowercase; expressions are in the
//! canonical form of `expression.rs`.

use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// The primary key's columns in key order (empty when there is none).
    pub primary_key: Vec<String>,
    /// UNIQUE constraints written in the table definition; unique indexes
    /// made with CREATE UNIQUE INDEX are in `indexes`.
    pub unique_constraints: BTreeSet<Vec<String>>,
    /// Indexes made with CREATE INDEX, by name.
    pub indexes: BTreeMap<String, Index>,
    /// CHECK constraints, canonical, sorted (their names are not compared:
    /// SQLite's are anonymous, PostgreSQL invents them).
    pub checks: Vec<String>,
    pub foreign_keys: BTreeSet<ForeignKey>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The type as the database reports it: SQLite's declared type in
    /// capitals (`INTEGER`), PostgreSQL's `format_type` (`bigint`).
    pub declared_type: String,
    pub nullable: bool,
    pub default: ColumnDefault,
    /// A collation other than the database's default (SQLite's `BINARY`),
    /// lowercase: it decides what equal and unique mean.
    pub collation: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ColumnDefault {
    None,
    /// The database assigns the value when none is given: SQLite's rowid
    /// alias (`INTEGER PRIMARY KEY`), PostgreSQL's identity or serial.
    GeneratedKey,
    /// A default expression, canonical.
    Expression(String),
}

impl std::fmt::Display for ColumnDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnDefault::None => f.write_str("no default"),
            ColumnDefault::GeneratedKey => f.write_str("a generated key"),
            ColumnDefault::Expression(expression) => write!(f, "default {expression}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub keys: Vec<IndexKey>,
    pub unique: bool,
    /// The partial index's WHERE clause, canonical.
    pub predicate: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IndexKey {
    /// A column name or a canonical expression such as `lower(name)`.
    pub expression: String,
    pub descending: bool,
    /// As for columns: `None` is the database's default.
    pub collation: Option<String>,
}

impl std::fmt::Display for IndexKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expression)?;
        if let Some(collation) = &self.collation {
            write!(f, " collate {collation}")?;
        }
        if self.descending {
            f.write_str(" desc")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    /// `no action`, `restrict`, `cascade`, `set null` or `set default`.
    pub on_update: String,
    pub on_delete: String,
}

impl std::fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}) references {} ({}) on update {} on delete {}",
            self.columns.join(", "),
            self.referenced_table,
            self.referenced_columns.join(", "),
            self.on_update,
            self.on_delete
        )
    }
}
