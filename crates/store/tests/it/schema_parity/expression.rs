//! SQL expressions as both databases report them, reduced to one canonical
//! text so they compare by meaning, not by spelling.
//!
//! SQLite hands back the text a migration wrote (`status IN ('a', 'b')`,
//! `model_call = 1`); PostgreSQL prints its own parse tree (`status = ANY
//! (ARRAY['a'::text, 'b'::text])`, `model_call`). Both are parsed with
//! sqlparser and printed again fully parenthesised, lowercase, with:
//! - PostgreSQL's `::type` casts dropped (`'[]'::jsonb` is `'[]'`), and a
//!   string cast to a number printed as the number (`'0'::double precision`);
//! - `= ANY (ARRAY[…])` printed as `IN (…)`, and `BETWEEN` as the two
//!   comparisons PostgreSQL stores it as;
//! - booleans as SQLite stores them (the type mapping's 0/1): `true`/`false`
//!   are `1`/`0`, and a PostgreSQL boolean column used as a condition (`WHERE
//!   model_call`, `NOT model_call`) is `(model_call = 1)` / `(model_call = 0)`.
//!
//! Anything else is printed by sqlparser as it is, so an unknown construct
//! can make two equal expressions look different (a false alarm to teach
//! this file), never two different ones look equal.

use std::collections::BTreeSet;

use sqlparser::ast::{
    BinaryOperator, CastKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget, UnaryOperator, Value,
};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlDialect {
    Sqlite,
    Postgres,
}

impl SqlDialect {
    pub fn parser_dialect(self) -> &'static dyn Dialect {
        match self {
            SqlDialect::Sqlite => &SQLiteDialect {},
            SqlDialect::Postgres => &PostgreSqlDialect {},
        }
    }
}

/// Parses one expression as `dialect` writes it.
pub fn parse(dialect: SqlDialect, text: &str) -> Expr {
    Parser::new(dialect.parser_dialect())
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_expr())
        .unwrap_or_else(|error| panic!("cannot parse the {dialect:?} expression {text:?}: {error}"))
}

/// Prints expressions canonically. `boolean_columns` are the table's
/// columns that are booleans in this database (PostgreSQL's `boolean`;
/// none on SQLite, where booleans are integers).
pub struct Canonical<'a> {
    pub boolean_columns: &'a BTreeSet<String>,
}

impl Canonical<'_> {
    /// A condition: a CHECK constraint or an index's WHERE clause.
    pub fn condition(&self, expression: &Expr) -> String {
        self.render(expression, true)
    }

    /// A value: a default or an index key.
    pub fn value(&self, expression: &Expr) -> String {
        self.render(expression, false)
    }

    /// `is_condition` is true where the expression stands for a truth value
    /// (the whole condition and the operands of AND, OR and NOT): only
    /// there does a bare boolean column mean `column = 1`.
    fn render(&self, expression: &Expr, is_condition: bool) -> String {
        match expression {
            Expr::Nested(inner) => self.render(inner, is_condition),
            // Collations are compared on their own (index keys, columns).
            Expr::Collate { expr, .. } => self.render(expr, is_condition),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let name = column_name(expression).unwrap_or_default();
                if is_condition && self.boolean_columns.contains(&name) { format!("({name} = 1)") } else { name }
            }
            Expr::Value(value) => render_value(&value.value),
            Expr::Cast { kind: CastKind::DoubleColon, expr, data_type, .. } => {
                let type_name = data_type.to_string().to_lowercase();
                match strip_nesting(expr) {
                    Expr::Value(value) if is_numeric_type(&type_name) => match &value.value {
                        Value::SingleQuotedString(number) => number.clone(),
                        other => render_value(other),
                    },
                    _ => self.render(expr, is_condition),
                }
            }
            Expr::UnaryOp { op: UnaryOperator::Not, expr } => match column_name(strip_nesting(expr)) {
                Some(name) if self.boolean_columns.contains(&name) => format!("({name} = 0)"),
                _ => format!("(not {})", self.render(expr, true)),
            },
            Expr::UnaryOp { op: UnaryOperator::Minus, expr } => format!("-{}", self.render(expr, false)),
            Expr::BinaryOp { left, op, right } => {
                let operands_are_conditions = matches!(op, BinaryOperator::And | BinaryOperator::Or);
                format!(
                    "({} {} {})",
                    self.render(left, operands_are_conditions),
                    op.to_string().to_lowercase(),
                    self.render(right, operands_are_conditions)
                )
            }
            Expr::IsNull(inner) => format!("({} is null)", self.render(inner, false)),
            Expr::IsNotNull(inner) => format!("({} is not null)", self.render(inner, false)),
            Expr::In { expr, target: InTarget::List(list), negated, .. } => self.render_in(expr, list, *negated),
            Expr::AnyOp { left, compare_op: BinaryOperator::Eq, right, .. } => match strip_casts(right) {
                Expr::Array(array) => self.render_in(left, &array.elem, false),
                _ => expression.to_string(),
            },
            Expr::Between { expr, negated, low, high } => {
                let (value, low, high) = (self.render(expr, false), self.render(low, false), self.render(high, false));
                if *negated {
                    format!("(({value} < {low}) or ({value} > {high}))")
                } else {
                    format!("(({value} >= {low}) and ({value} <= {high}))")
                }
            }
            Expr::Function(function) => {
                let name = function.name.to_string().to_lowercase();
                match &function.args {
                    FunctionArguments::None => name,
                    FunctionArguments::List(list) if list.duplicate_treatment.is_none() && list.clauses.is_empty() => {
                        let arguments: Vec<String> = list
                            .args
                            .iter()
                            .map(|argument| match argument {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(inner)) => self.render(inner, false),
                                other => other.to_string(),
                            })
                            .collect();
                        format!("{name}({})", arguments.join(", "))
                    }
                    _ => expression.to_string(),
                }
            }
            other => other.to_string(),
        }
    }

    fn render_in(&self, value: &Expr, list: &[Expr], negated: bool) -> String {
        let items: Vec<String> = list.iter().map(|item| self.render(item, false)).collect();
        let operator = if negated { "not in" } else { "in" };
        format!("({} {operator} ({}))", self.render(value, false), items.join(", "))
    }
}

/// The column an identifier names, lowercase, without a table qualifier.
pub fn column_name(expression: &Expr) -> Option<String> {
    match expression {
        Expr::Identifier(identifier) => Some(identifier.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|identifier| identifier.value.to_lowercase()),
        _ => None,
    }
}

fn strip_nesting(expression: &Expr) -> &Expr {
    match expression {
        Expr::Nested(inner) => strip_nesting(inner),
        other => other,
    }
}

fn strip_casts(expression: &Expr) -> &Expr {
    match expression {
        Expr::Nested(inner) | Expr::Cast { kind: CastKind::DoubleColon, expr: inner, .. } => strip_casts(inner),
        other => other,
    }
}

fn is_numeric_type(type_name: &str) -> bool {
    ["smallint", "integer", "int", "bigint", "numeric", "real", "double precision", "float"]
        .iter()
        .any(|numeric| type_name == *numeric || type_name.starts_with(&format!("{numeric}(")))
}

fn render_value(value: &Value) -> String {
    match value {
        Value::Number(number, _) => number.clone(),
        Value::SingleQuotedString(text) => format!("'{}'", text.replace('\'', "''")),
        Value::Boolean(true) => "1".into(),
        Value::Boolean(false) => "0".into(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_condition(text: &str) -> String {
        Canonical { boolean_columns: &BTreeSet::new() }.condition(&parse(SqlDialect::Sqlite, text))
    }

    fn postgres_condition(text: &str, boolean_columns: &[&str]) -> String {
        let boolean_columns = boolean_columns.iter().map(|name| name.to_string()).collect();
        Canonical { boolean_columns: &boolean_columns }.condition(&parse(SqlDialect::Postgres, text))
    }

    #[test]
    fn postgresql_spellings_of_a_sqlite_condition_agree_with_it() {
        let pairs = [
            ("status IN ('active', 'paused')", "status = ANY (ARRAY['active'::text, 'paused'::text])"),
            ("status <> 'archived'", "(status <> 'archived'::text)"),
            ("model_call = 1", "model_call"),
            ("model_call = 0", "NOT model_call"),
            ("calls BETWEEN 0 AND model_calls", "calls >= 0 AND calls <= model_calls"),
            (
                "kind <> 'agent' OR (agent_id IS NOT NULL AND action_id IS NULL)",
                "kind <> 'agent'::text OR agent_id IS NOT NULL AND action_id IS NULL",
            ),
            ("(status = 'finished') = (outcome IS NOT NULL)", "(status = 'finished'::text) = (outcome IS NOT NULL)"),
        ];
        for (sqlite, postgres) in pairs {
            assert_eq!(
                sqlite_condition(sqlite),
                postgres_condition(postgres, &["model_call"]),
                "{sqlite} | {postgres}"
            );
        }
    }

    #[test]
    fn different_conditions_stay_different() {
        let pairs = [
            ("status IN ('active', 'paused')", "status = ANY (ARRAY['active'::text])"),
            ("status <> 'archived'", "status = 'archived'::text"),
            ("model_call = 1", "NOT model_call"),
            ("a OR b AND c", "(a OR b) AND c"),
            ("attempts >= 0", "attempts > 0"),
        ];
        for (sqlite, postgres) in pairs {
            assert_ne!(
                sqlite_condition(sqlite),
                postgres_condition(postgres, &["model_call"]),
                "{sqlite} | {postgres}"
            );
        }
    }

    #[test]
    fn defaults_lose_their_casts_and_booleans_become_integers() {
        let value = |dialect, text| Canonical { boolean_columns: &BTreeSet::new() }.value(&parse(dialect, text));
        assert_eq!(value(SqlDialect::Postgres, "'[]'::jsonb"), value(SqlDialect::Sqlite, "'[]'"));
        assert_eq!(value(SqlDialect::Postgres, "false"), value(SqlDialect::Sqlite, "0"));
        assert_eq!(value(SqlDialect::Postgres, "'0'::double precision"), value(SqlDialect::Sqlite, "0"));
        assert_eq!(value(SqlDialect::Postgres, "LOWER(name)"), value(SqlDialect::Sqlite, "lower(name)"));
        assert_ne!(value(SqlDialect::Postgres, "'1'::text"), value(SqlDialect::Sqlite, "1"));
    }
}
