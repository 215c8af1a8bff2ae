//! Where traces go: the configured endpoint or the standard `OTEL_…`
//! variables, and the headers to send (`secret:NAME` values resolved).

use super::config::TelemetryConfig;

/// The OTLP/HTTP traces URL and headers of an export.
#[derive(Clone, PartialEq)]
pub struct ExportTarget {
    /// The full URL traces are posted to (`…/v1/traces`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// `service.name` of the exported resource.
    pub service_name: String,
}

impl std::fmt::Debug for ExportTarget {
    /// Header values often are API keys: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ExportTarget").field("url", &self.url).field("headers", &names).finish()
    }
}

/// The target `config` and the environment (`env`) name, `None` when
/// neither names an endpoint (or `OTEL_SDK_DISABLED=true`). `secret` gives
/// the value of a `secret:NAME` reference.
pub fn resolve_target(
    config: &TelemetryConfig,
    env: &dyn Fn(&str) -> Option<String>,
    secret: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ExportTarget>, String> {
    let env = |name: &str| env(name).map(|value| value.trim().to_string()).filter(|value| !value.is_empty());
    if env("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let url = if !config.otlp_endpoint.trim().is_empty() {
        traces_path(config.otlp_endpoint.trim())
    } else if let Some(url) = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        url
    } else if let Some(base) = env("OTEL_EXPORTER_OTLP_ENDPOINT") {
        traces_path(&base)
    } else {
        return Ok(None);
    };
    match url::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
        _ => return Err(format!("the OTLP traces endpoint {url:?} is not an http:// or https:// URL")),
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut set = |name: String, value: String| {
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        headers.push((name, value));
    };
    for variable in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] {
        for (name, value) in parse_headers(&env(variable).unwrap_or_default()) {
            set(name, value);
        }
    }
    for (name, value) in &config.otlp_headers {
        let value = if value.starts_with("secret:") {
            secret(value).ok_or_else(|| format!("telemetry.otlp_headers.{name}: there is no stored {value}"))?
        } else {
            value.clone()
        };
        set(name.clone(), value);
    }
    let service_name = env("OTEL_SERVICE_NAME").unwrap_or_else(|| "steward".into());
    Ok(Some(ExportTarget { url, headers, service_name }))
}

fn traces_path(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// `key1=value1,key2=value2` with percent-encoded values (the W3C baggage
/// form the OTLP exporter specification uses); malformed entries are skipped.
fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|entry| {
            let (name, value) = entry.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_string(), percent_decode(value.trim())))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (bytes[index], hex.and_then(|pair| u8::from_str_radix(pair, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn resolve(config: &TelemetryConfig, vars: &[(&str, &str)]) -> Result<Option<ExportTarget>, String> {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let secrets = |name: &str| (name == "secret:OTLP_KEY").then(|| "k-123".to_string());
        resolve_target(config, &|name| vars.get(name).cloned(), &secrets)
    }

    #[test]
    fn nothing_configured_exports_nothing() {
        assert_eq!(resolve(&TelemetryConfig::default(), &[]), Ok(None));
    }

    #[test]
    fn the_configured_endpoint_wins_and_gets_the_traces_path() {
        let config = TelemetryConfig { otlp_endpoint: "http://collector:4318/".into(), ..TelemetryConfig::default() };
        let target = resolve(&config, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318")]).unwrap().unwrap();
        assert_eq!(target.url, "http://collector:4318/v1/traces");
        assert_eq!(target.service_name, "steward");
    }

    #[test]
    fn the_standard_variables_follow_the_specification() {
        let config = TelemetryConfig::default();
        let base = resolve(&config, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap().unwrap();
        assert_eq!(base.url, "http://c:4318/v1/traces");
        let signal = resolve(
            &config,
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t/x")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(signal.url, "http://t/x", "the signal's own URL is used as it is");
        let disabled =
            resolve(&config, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"), ("OTEL_SDK_DISABLED", "true")]);
        assert_eq!(disabled, Ok(None));
        assert!(resolve(&config, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")]).is_err());
    }

    #[test]
    fn headers_come_from_the_variables_then_the_configuration_with_secrets() {
        let config = TelemetryConfig {
            otlp_endpoint: "https://api.example/otlp".into(),
            otlp_headers: BTreeMap::from([("X-Key".into(), "secret:OTLP_KEY".into())]),
            ..TelemetryConfig::default()
        };
        let vars = [
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-key=old, x-team=a%20b,broken"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=c"),
        ];
        let target = resolve(&config, &vars).unwrap().unwrap();
        assert_eq!(target.headers, vec![("x-team".to_string(), "c".to_string()), ("X-Key".into(), "k-123".into())]);
        assert!(!format!("{target:?}").contains("k-123"), "header values stay out of logs");
        let missing =
            TelemetryConfig { otlp_headers: BTreeMap::from([("x".into(), "secret:NONE".into())]), ..config.clone() };
        assert!(resolve(&missing, &[]).unwrap_err().contains("secret:NONE"));
        assert_eq!(parse_headers("a=%41%zz"), vec![("a".to_string(), "A%zz".to_string())]);
    }
}
