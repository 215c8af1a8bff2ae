//! What a delivery carries: the run's output (or why there is none), a
//! label, the cost and a link to the run; the same for every destination,
//! each transport shaping it its own way.

use steward_domain::delivery::slack_blocks::Footer;
use steward_domain::{Run, RunOutcome};

#[derive(Clone, Debug, PartialEq)]
pub struct Content {
    /// The routine's name, or `run N`.
    pub label: String,
    pub markdown: String,
    pub cost_usd: Option<f64>,
    pub run_url: Option<String>,
    pub run_id: i64,
    pub fire_id: Option<i64>,
}

impl Content {
    /// The content of a finished run: its output, or a short note saying
    /// how it ended without one (a person expecting a plan hears why).
    pub fn of_run(run: &Run, label: String, public_url: &str, fire_id: Option<i64>) -> Content {
        let markdown = match (&run.outcome, &run.output) {
            (Some(RunOutcome::Completed), Some(output)) if !output.trim().is_empty() => output.clone(),
            (outcome, _) => {
                let how = outcome.map_or("unfinished", RunOutcome::as_str);
                let error = run.error.as_deref().map(|error| format!(": {error}")).unwrap_or_default();
                format!("**{label} has no output**: the run ended {how}{error}.")
            }
        };
        let run_url = (!public_url.is_empty()).then(|| format!("{}/runs/{}", public_url.trim_end_matches('/'), run.id));
        Content {
            label,
            markdown,
            cost_usd: run.usage.cost_is_known().then_some(run.usage.cost_usd),
            run_url,
            run_id: run.id.get(),
            fire_id,
        }
    }

    pub fn footer(&self) -> Footer {
        Footer { label: self.label.clone(), cost_usd: self.cost_usd, run_url: self.run_url.clone() }
    }

    /// One line under the text of e-mails and files.
    pub fn footer_line(&self) -> String {
        let cost = self.cost_usd.map_or_else(|| "cost unknown".to_string(), |cost| format!("cost ${cost:.4}"));
        match &self.run_url {
            Some(url) => format!("{} · {cost} · {url}", self.label),
            None => format!("{} · {cost} · run {}", self.label, self.run_id),
        }
    }

    /// An e-mail subject: the label and the output's first heading or line.
    pub fn subject(&self) -> String {
        let first = self
            .markdown
            .lines()
            .map(|line| line.trim().trim_start_matches('#').trim())
            .find(|line| !line.is_empty())
            .unwrap_or_default();
        let first: String = first.chars().take(80).collect();
        if first.is_empty() { self.label.clone() } else { format!("{}: {first}", self.label) }
    }
}
