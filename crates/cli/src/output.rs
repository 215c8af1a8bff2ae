//! How the CLI shows things: tables for people (times in the local time
//! zone, durations in words, fitted to the terminal), the API's own JSON for
//! scripts (`--json`: one compact document a command, times in UTC, money as
//! decimal strings), and confirmation before destructive commands. Nothing
//! here panics on a closed pipe.

use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Local, Utc};
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

/// Writes a line to stdout. When the reader went away (`steward job list |
/// head`), the CLI exits quietly instead of panicking as `println!` would.
pub fn write_line(line: fmt::Arguments<'_>) {
    write_stdout(|stdout| writeln!(stdout, "{line}"));
}

/// Writes text without a newline and flushes it at once (a streamed reply).
pub fn write_text(text: &str) {
    write_stdout(|stdout| stdout.write_all(text.as_bytes()));
}

/// Writes bytes as they are (an artifact's content, a completion script).
pub fn write_bytes(bytes: &[u8]) {
    write_stdout(|stdout| stdout.write_all(bytes));
}

/// Runs `write` on the locked stdout and flushes. A closed pipe ends the
/// process with status 0, as Unix tools do when their reader has seen
/// enough; any other write failure ends it with an error.
fn write_stdout(write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = write(&mut stdout).and_then(|()| stdout.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(1);
    }
}

/// `println!` for command output; see [`write_line`].
macro_rules! say {
    ($($argument:tt)*) => {
        $crate::output::write_line(format_args!($($argument)*))
    };
}
pub(crate) use say;

/// Whether `--json` output is indented for people (`--pretty`); set once
/// at start-up, before anything is printed.
static PRETTY_JSON: AtomicBool = AtomicBool::new(false);

pub fn set_pretty_json(pretty: bool) {
    PRETTY_JSON.store(pretty, Ordering::Relaxed);
}

/// Prints one JSON document and a newline: compact, or indented with
/// `--pretty`. Amounts of money become decimal strings ([`money_as_decimal_strings`]).
pub fn print_json(value: &Value) {
    let mut value = value.clone();
    money_as_decimal_strings(&mut value);
    let text = if PRETTY_JSON.load(Ordering::Relaxed) {
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    } else {
        value.to_string()
    };
    say!("{text}");
}

/// Keys whose values are JSON that people or models wrote (a job's payload,
/// a tool call's arguments and result, a structured answer): left as they are.
const FREE_FORM_KEYS: &[&str] = &["payload", "arguments", "result", "value", "json"];

/// Rewrites amounts of US dollars — numbers under a key with a `usd`
/// segment (`cost_usd`, `cost_usd_today`) or in a `price_per_million_tokens`
/// object — as decimal strings rounded to the micro-dollar: `0.1 + 0.2`
/// prints as `"0.3"`, not `0.30000000000000004`.
pub fn money_as_decimal_strings(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if FREE_FORM_KEYS.contains(&key.as_str()) {
                    continue;
                }
                if key == "price_per_million_tokens" {
                    if let Value::Object(prices) = child {
                        prices.values_mut().for_each(number_to_decimal_string);
                    }
                } else if key.split('_').any(|segment| segment == "usd") {
                    number_to_decimal_string(child);
                } else {
                    money_as_decimal_strings(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(money_as_decimal_strings),
        _ => {}
    }
}

fn number_to_decimal_string(value: &mut Value) {
    if let Some(number) = value.as_f64() {
        *value = Value::String(decimal(number));
    }
}

/// `0.3`, `12`, `0.000123`: six decimals at most, no trailing zeros.
pub fn decimal(amount: f64) -> String {
    let text = format!("{amount:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// A table with a header row, fitted to the terminal (see [`fit`]).
pub fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    table.set_header(header);
    fit(&mut table);
    table
}

/// A two-column table of a record's fields.
pub fn record(rows: Vec<(&str, String)>) -> Table {
    let mut table = Table::new();
    table.load_style(presets::UTF8_FULL_CONDENSED);
    for (name, value) in rows {
        table.add_row([name.to_string(), value]);
    }
    fit(&mut table);
    table
}

/// Cells wrap so the table fits the terminal's width; into a pipe, the
/// width is `COLUMNS` when set (and unlimited otherwise, for tools that
/// read whole lines). `--json` always has the full text.
pub fn fit(table: &mut Table) {
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if !std::io::stdout().is_terminal()
        && let Some(columns) = std::env::var("COLUMNS").ok().and_then(|columns| columns.trim().parse::<u16>().ok())
    {
        table.set_width(columns.max(20));
    }
}

/// A time in the local time zone, to the second.
pub fn local_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn optional_time(time: Option<DateTime<Utc>>) -> String {
    time.map(local_time).unwrap_or_else(|| "—".to_string())
}

/// A time with how far it is from now: `2030-01-01 09:00:00 (in 5 min)`.
pub fn time_with_distance(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let delta = time - now;
    let milliseconds = delta.num_milliseconds();
    if milliseconds.abs() < 1000 {
        return format!("{} (now)", local_time(time));
    }
    let words = duration(milliseconds.unsigned_abs());
    if milliseconds > 0 {
        format!("{} (in {words})", local_time(time))
    } else {
        format!("{} ({words} ago)", local_time(time))
    }
}

/// A duration for people: `250 ms`, `2.4 s`, `3 min 20 s`, `1 h 5 min`, `2 d 3 h`.
pub fn duration(milliseconds: u64) -> String {
    let seconds = milliseconds / 1000;
    match milliseconds {
        0..1000 => format!("{milliseconds} ms"),
        1000..60_000 => format!("{:.1} s", milliseconds as f64 / 1000.0),
        60_000..3_600_000 => two_units(seconds / 60, "min", seconds % 60, "s"),
        3_600_000..86_400_000 => two_units(seconds / 3600, "h", (seconds % 3600) / 60, "min"),
        _ => two_units(seconds / 86_400, "d", (seconds % 86_400) / 3600, "h"),
    }
}

/// `3 min 20 s`, or `5 min` when the smaller unit is zero.
fn two_units(large: u64, large_unit: &str, small: u64, small_unit: &str) -> String {
    if small == 0 { format!("{large} {large_unit}") } else { format!("{large} {large_unit} {small} {small_unit}") }
}

pub fn optional_duration(milliseconds: Option<u64>) -> String {
    milliseconds.map(duration).unwrap_or_else(|| "—".to_string())
}

/// The first line of `text`, cut to `max` characters.
pub fn truncate(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= max && !text.contains('\n') {
        return line.to_string();
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

pub fn or_dash(text: Option<&str>) -> String {
    match text {
        Some(text) if !text.is_empty() => text.to_string(),
        _ => "—".to_string(),
    }
}

/// One item a line, each after a bullet; `—` when there are none.
pub fn bullets(items: &[String]) -> String {
    if items.is_empty() {
        return "—".to_string();
    }
    items.iter().map(|item| format!("• {item}")).collect::<Vec<_>>().join("\n")
}

/// Asks before a destructive command. `--yes` skips the question; without
/// a terminal to ask on, the command is refused rather than run unasked.
pub fn confirm(question: &str, what: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to {what} without confirmation: not running in a terminal; pass --yes to confirm");
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        anyhow::bail!("cancelled; nothing was changed")
    }
}

/// Whether confirmation would need a question (no `--yes`, and a terminal
/// to ask on); callers fetch what they describe in the question only then.
pub fn will_ask(yes: bool) -> bool {
    !yes && std::io::stdin().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(250), "250 ms");
        assert_eq!(duration(2_400), "2.4 s");
        assert_eq!(duration(200_000), "3 min 20 s");
        assert_eq!(duration(3_900_000), "1 h 5 min");
        assert_eq!(duration(300_000), "5 min");
        assert_eq!(duration(97_200_000), "1 d 3 h");
    }

    #[test]
    fn money_prints_as_decimal_strings() {
        let mut value = serde_json::json!({
            "cost_usd": 0.1 + 0.2,
            "metrics": {"cost_usd_today": 0.000123, "cost_usd_total": 12.0, "runs": 3},
            "budget": {"daily_usd": null},
            "models": [{"price_per_million_tokens": {"input": 0.4, "output": 1.6}}],
            "usdt": 1.5,
            "payload": {"cost_usd": 0.5},
        });
        money_as_decimal_strings(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "cost_usd": "0.3",
                "metrics": {"cost_usd_today": "0.000123", "cost_usd_total": "12", "runs": 3},
                "budget": {"daily_usd": null},
                "models": [{"price_per_million_tokens": {"input": "0.4", "output": "1.6"}}],
                "usdt": 1.5,
                "payload": {"cost_usd": 0.5},
            })
        );
        assert_eq!(decimal(-0.0000001), "0");
    }

    #[test]
    fn long_text_is_cut_on_characters() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("ééééééééééé", 5), "éééé…");
        assert_eq!(truncate("first\nsecond", 20), "first…");
    }
}
