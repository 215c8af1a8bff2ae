//! OTLP protobuf values (the official definitions of `opentelemetry-proto`):
//! attributes, spans and the export request.

use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

use super::ids::{SpanId, TraceId};

pub(crate) fn string(key: &str, value: impl Into<String>) -> KeyValue {
    attribute(key, any_value::Value::StringValue(value.into()))
}

pub(crate) fn int(key: &str, value: u64) -> KeyValue {
    attribute(key, any_value::Value::IntValue(i64::try_from(value).unwrap_or(i64::MAX)))
}

pub(crate) fn strings(key: &str, values: &[&str]) -> KeyValue {
    let values = values
        .iter()
        .map(|value| AnyValue { value: Some(any_value::Value::StringValue((*value).to_string())) })
        .collect();
    attribute(key, any_value::Value::ArrayValue(ArrayValue { values }))
}

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue { key: key.to_string(), value: Some(AnyValue { value: Some(value) }), ..KeyValue::default() }
}

/// What a span is, before it becomes protobuf.
pub(crate) struct SpanParts {
    pub trace: TraceId,
    pub id: SpanId,
    pub parent: Option<SpanId>,
    pub name: String,
    pub client: bool,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attributes: Vec<KeyValue>,
    /// The status message of a span that ended in error.
    pub error: Option<String>,
}

impl SpanParts {
    pub fn into_span(self) -> Span {
        let status = match self.error {
            Some(message) => Status { message, code: status::StatusCode::Error as i32 },
            None => Status { message: String::new(), code: status::StatusCode::Unset as i32 },
        };
        let kind = if self.client { span::SpanKind::Client } else { span::SpanKind::Internal };
        Span {
            trace_id: self.trace.to_vec(),
            span_id: self.id.to_vec(),
            parent_span_id: self.parent.map(|parent| parent.to_vec()).unwrap_or_default(),
            name: self.name,
            kind: kind as i32,
            start_time_unix_nano: unix_nanos(self.start),
            end_time_unix_nano: unix_nanos(self.end.max(self.start)),
            attributes: self.attributes,
            status: Some(status),
            ..Span::default()
        }
    }
}

fn unix_nanos(at: DateTime<Utc>) -> u64 {
    at.timestamp_nanos_opt().and_then(|nanos| u64::try_from(nanos).ok()).unwrap_or(0)
}

/// One export request holding `spans`, from the service `service_name`.
pub(crate) fn request(service_name: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    let version = env!("CARGO_PKG_VERSION");
    let resource = Resource {
        attributes: vec![string("service.name", service_name), string("service.version", version)],
        ..Resource::default()
    };
    let scope = InstrumentationScope { name: "steward".into(), version: version.into(), ..Default::default() };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans { scope: Some(scope), spans, ..ScopeSpans::default() }],
            ..ResourceSpans::default()
        }],
    }
}
