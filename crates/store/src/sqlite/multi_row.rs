//! Statements that take many rows at once as one `VALUES` list of bound
//! parameters: the queue's hot path writes a batch of events, or settles a
//! batch of jobs, in a few statements instead of one per row.
//!
//! Why not one JSON array through `json_each` (what these statements did
//! before): SQLite parses the array and then every `value ->> n` again. An
//! event row cost 2.4-3.2 µs of CPU that way and 1.0-1.2 µs as bound
//! parameters (`bench/sqlite-rows/rows.py`). A batch is cut into chunks of a
//! few fixed sizes, so each statement is prepared once and cached, whatever
//! the batch's length; its text is written once per size
//! ([`ChunkedStatement`]), not on every call.

use std::fmt::Write as _;
use std::sync::OnceLock;

use rusqlite::{Connection, Statement, ToSql};

use crate::Result;

/// The sizes a batch is cut into, largest first; the last must be 1.
const CHUNK_SIZES: [usize; 4] = [64, 16, 4, 1];

/// A statement over a chunk of rows, written by `write(rows)` (with
/// [`values_list`]) once for each chunk size the first time it is needed.
pub(crate) struct ChunkedStatement {
    write: fn(rows: usize) -> String,
    texts: [OnceLock<String>; CHUNK_SIZES.len()],
}

impl ChunkedStatement {
    pub(crate) const fn new(write: fn(rows: usize) -> String) -> Self {
        ChunkedStatement { write, texts: [const { OnceLock::new() }; CHUNK_SIZES.len()] }
    }

    /// Runs the statement over rows `0..rows`, chunk by chunk in order: binds
    /// `row_values(i)` for each row `i` of the chunk and `shared` after them,
    /// then hands the statement to `run` (to execute it or read what it
    /// returns).
    pub(crate) fn run_in_chunks<'v, const COLUMNS: usize>(
        &self,
        connection: &Connection,
        rows: usize,
        row_values: impl Fn(usize) -> [&'v dyn ToSql; COLUMNS],
        shared: &[&dyn ToSql],
        mut run: impl FnMut(&mut Statement<'_>) -> Result<()>,
    ) -> Result<()> {
        for (start, slot) in chunks(rows) {
            let size = CHUNK_SIZES[slot];
            let text = self.texts[slot].get_or_init(|| (self.write)(size));
            let mut statement = connection.prepare_cached(text)?;
            bind_rows(&mut statement, size, |row| row_values(start + row), shared)?;
            run(&mut statement)?;
        }
        Ok(())
    }
}

/// The chunks of a batch of `rows` rows: `(first row, index of its size in
/// CHUNK_SIZES)`, in order, each as large as [`CHUNK_SIZES`] allows.
fn chunks(rows: usize) -> impl Iterator<Item = (usize, usize)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = rows - start;
        let slot = CHUNK_SIZES.iter().position(|&size| size <= left)?;
        let chunk = (start, slot);
        start += CHUNK_SIZES[slot];
        Some(chunk)
    })
}

/// `(?1, ?2, ?3), (?4, ?5, ?6)` for `rows` rows of `columns` parameters.
/// Parameters shared by all rows are numbered after the list, from
/// `rows * columns + 1`; the first `shared_in_row` of them are also put at
/// the end of every row (`(?1, ?2, ?7), (?3, ?4, ?7)`).
pub(crate) fn values_list(rows: usize, columns: usize, shared_in_row: usize) -> String {
    let mut list = String::with_capacity(rows * (columns + shared_in_row) * 6);
    for row in 0..rows {
        if row > 0 {
            list.push_str(", ");
        }
        list.push('(');
        let own =
            (row * columns + 1..=row * columns + columns).chain(rows * columns + 1..=rows * columns + shared_in_row);
        for (position, parameter) in own.enumerate() {
            if position > 0 {
                list.push_str(", ");
            }
            let _ = write!(list, "?{parameter}");
        }
        list.push(')');
    }
    list
}

/// Binds `row_values(i)` to each row of a statement made with
/// [`values_list`] for `rows` rows, then `shared` after them.
fn bind_rows<'v, const COLUMNS: usize>(
    statement: &mut Statement<'_>,
    rows: usize,
    row_values: impl Fn(usize) -> [&'v dyn ToSql; COLUMNS],
    shared: &[&dyn ToSql],
) -> Result<()> {
    for row in 0..rows {
        for (column, value) in row_values(row).into_iter().enumerate() {
            statement.raw_bind_parameter(row * COLUMNS + column + 1, value)?;
        }
    }
    for (index, value) in shared.iter().enumerate() {
        statement.raw_bind_parameter(rows * COLUMNS + index + 1, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn a_batch_is_cut_into_the_largest_chunks_in_order() {
        let sized = |rows| chunks(rows).map(|(start, slot)| (start, CHUNK_SIZES[slot])).collect::<Vec<_>>();
        let cut = sized(90);
        assert_eq!(cut, [(0, 64), (64, 16), (80, 4), (84, 4), (88, 1), (89, 1)]);
        assert_eq!(chunks(0).count(), 0);
        for rows in 0..300 {
            let cut = sized(rows);
            let mut next = 0;
            for (start, size) in cut {
                assert_eq!(start, next, "chunks of {rows} rows leave no gap");
                next = start + size;
            }
            assert_eq!(next, rows, "chunks of {rows} rows cover them all");
        }
    }

    #[test]
    fn the_values_list_numbers_parameters_row_by_row() {
        assert_eq!(values_list(2, 3, 0), "(?1, ?2, ?3), (?4, ?5, ?6)");
        assert_eq!(values_list(1, 1, 0), "(?1)");
        assert_eq!(values_list(2, 2, 1), "(?1, ?2, ?5), (?3, ?4, ?5)");
    }

    #[test]
    fn bound_rows_come_back_in_order_with_the_shared_values_after_them() {
        let connection = Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE t (n INTEGER, s TEXT, tag TEXT)").unwrap();
        let names = ["a", "b'c", "d\"e"];
        let numbers = [1_i64, 2, 3];
        let sql = format!("INSERT INTO t (n, s, tag) VALUES {}", values_list(3, 2, 1));
        let mut statement = connection.prepare(&sql).unwrap();
        bind_rows(&mut statement, 3, |row| [&numbers[row] as &dyn ToSql, &names[row]], &[&"tagged"]).unwrap();
        assert_eq!(statement.raw_execute().unwrap(), 3);
        drop(statement);
        let rows: Vec<(i64, String, String)> = connection
            .prepare("SELECT n, s, tag FROM t ORDER BY rowid")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [(1, "a".into(), "tagged".into()), (2, "b'c".into(), "tagged".into()), (3, "d\"e".into(), "tagged".into())]
        );
    }
}
