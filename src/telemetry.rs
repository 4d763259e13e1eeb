//! Logs and traces: log lines on stderr (text, or JSON by option) filtered
//! by `RUST_LOG` (default `info`); spans exported over OTLP when an endpoint
//! is configured (`[telemetry] otlp_endpoint` or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`); W3C trace context always propagated.
//!
//! The OpenTelemetry layer is installed only with an exporter: without one
//! it would build a span for nobody on every call. Trace context then
//! travels on the call's span itself ([`continue_trace`],
//! [`upstream_trace_context`]), so a warehouse call still continues the
//! caller's trace with a span id of its own.

use std::io::IsTerminal;

use opentelemetry::{
    Context,
    trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
        TracerProvider as _,
    },
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, layer::SubscriberExt, registry::LookupSpan, util::SubscriberInitExt,
};

/// How to log and trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// One JSON object per log line instead of text.
    pub json_logs: bool,
    /// OTLP/gRPC collector, e.g. `http://localhost:4317`.
    pub otlp_endpoint: Option<String>,
    /// Write log lines through libtest's output capture (for tests), so a
    /// passing test prints nothing.
    pub test_writer: bool,
}

/// Flushes exported spans when dropped.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Makes W3C `traceparent` / `tracestate` the process's propagation format.
pub fn install_propagator() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
}

/// The subscriber [`init`] installs, not yet installed, with what it
/// needs to flush on shutdown. `qlink-bench` times it on one thread.
pub struct Telemetry {
    /// The log layer, and the OpenTelemetry layer with an exporter, over a
    /// registry.
    pub dispatch: tracing::Dispatch,
    provider: Option<SdkTracerProvider>,
    otlp_endpoint: Option<String>,
    export_problem: Option<String>,
}

crate::debug::debug_showing!(Telemetry { otlp_endpoint });

impl Telemetry {
    /// Builds the subscriber for `config` (and `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub fn new(config: &TelemetryConfig) -> Self {
        let otlp_endpoint = config
            .otlp_endpoint
            .clone()
            .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
            .filter(|endpoint| !endpoint.trim().is_empty());
        let mut export_problem = None;
        let provider = otlp_endpoint.as_ref().and_then(|endpoint| {
            match opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
            {
                Ok(exporter) => Some(
                    SdkTracerProvider::builder()
                        .with_batch_exporter(exporter)
                        .build(),
                ),
                Err(err) => {
                    export_problem = Some(err.to_string());
                    None
                }
            }
        });
        let trace_layer = provider.as_ref().map(|provider| {
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("qlink-facade"))
                // Our spans reach OpenTelemetry only through this layer, so
                // making each entered span the current OpenTelemetry context
                // would be work on every poll for no reader.
                .with_context_activation(false)
                // Busy/idle time per span costs two clock reads per poll, and
                // the thread name a string per span; spans keep their start
                // and end times.
                .with_tracked_inactivity(false)
                .with_threads(false)
        });
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let log_layer = if config.test_writer {
            tracing_subscriber::fmt::layer()
                .fmt_fields(escaped_fields())
                .with_ansi(false)
                .with_test_writer()
                .boxed()
        } else if config.json_logs {
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .boxed()
        } else {
            // Colours only on a terminal: journald and log files get plain text.
            tracing_subscriber::fmt::layer()
                .fmt_fields(escaped_fields())
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .boxed()
        };
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(log_layer)
            .with(trace_layer);
        Self {
            dispatch: tracing::Dispatch::new(subscriber),
            provider,
            otlp_endpoint,
            export_problem,
        }
    }
}

/// The text format's fields, as the default formats them (the message
/// bare, the others `name=value`), with every control character escaped:
/// a value from outside (an order number, a warehouse's words) cannot start
/// a forged line or send terminal escapes. JSON logs escape by themselves.
fn escaped_fields() -> impl for<'writer> tracing_subscriber::fmt::FormatFields<'writer> + 'static {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        // `%value` fields print as Display through Debug; `?value` and
        // strings as Debug, which escapes already; both pass through here.
        let text = format!("{value:?}");
        let text = escape_controls(&text);
        if field.name() == "message" {
            write!(writer, "{text}")
        } else {
            write!(writer, "{}={text}", field.name())
        }
    })
    .delimited(" ")
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}`).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// The trace a call belongs to, kept on its span when no OpenTelemetry
/// layer keeps it.
#[derive(Debug, Clone)]
struct CallTrace {
    trace_id: TraceId,
    flags: TraceFlags,
    state: TraceState,
}

/// Makes `span` (a call's outermost span) continue `caller`'s trace: the
/// caller's trace context as extracted from its request, or none, which
/// starts a new trace, sampled.
pub fn continue_trace(span: &tracing::Span, caller: Context) {
    let remote = caller.span().span_context().clone();
    // With the OpenTelemetry layer the span itself becomes the child.
    let _ = span.set_parent(caller);
    let trace = if remote.is_valid() {
        CallTrace {
            trace_id: remote.trace_id(),
            flags: remote.trace_flags(),
            state: remote.trace_state().clone(),
        }
    } else {
        CallTrace {
            trace_id: TraceId::from_bytes(fastrand::u128(1..).to_be_bytes()),
            flags: TraceFlags::SAMPLED,
            state: TraceState::default(),
        }
    };
    span.with_subscriber(|(id, dispatch)| {
        if let Some(span) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(id))
        {
            span.extensions_mut().insert(trace);
        }
    });
}

/// The trace context to send to a warehouse for `span` (an upstream
/// attempt's span): the span's own with the OpenTelemetry layer; without
/// it, the call's trace with a fresh span id; empty without a subscriber.
pub fn upstream_trace_context(span: &tracing::Span) -> Context {
    let own = span.context();
    if own.span().span_context().is_valid() {
        return own;
    }
    let mut trace = None;
    span.with_subscriber(|(id, dispatch)| {
        if let Some(span) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(id))
        {
            trace = span
                .scope()
                .find_map(|ancestor| ancestor.extensions().get::<CallTrace>().cloned());
        }
    });
    match trace {
        Some(trace) => Context::new().with_remote_span_context(SpanContext::new(
            trace.trace_id,
            SpanId::from_bytes(fastrand::u64(1..).to_be_bytes()),
            trace.flags,
            false,
            trace.state,
        )),
        None => Context::new(),
    }
}

/// Installs the global subscriber and propagator; later calls only return
/// a guard (tests start many servers in one process).
pub fn init(config: &TelemetryConfig) -> TelemetryGuard {
    install_propagator();
    let Telemetry {
        dispatch,
        provider,
        otlp_endpoint,
        export_problem,
    } = Telemetry::new(config);
    let installed = dispatch.try_init().is_ok();
    if let Some(problem) = export_problem {
        tracing::warn!(error = %problem, "cannot set up OTLP span export; spans are not exported");
    } else if let (true, Some(endpoint)) = (installed, &otlp_endpoint) {
        tracing::info!(otlp_endpoint = %endpoint, "exporting spans over OTLP");
    }
    TelemetryGuard {
        provider: provider.filter(|_| installed),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_value_cannot_forge_a_log_line() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(escaped_fields())
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
        let forged = "ORD-1\n2026-12-01T00:00:00Z ERROR qlink_facade: forged\u{1b}[31m";
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(number = %forged, other = forged, "push refused: {}", forged);
        });
        let text = String::from_utf8(lines.0.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("ORD-1\\n2026"), "{text}");
        assert!(text.contains("number=ORD-1"), "{text}");
    }

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("plain 名称"), "plain 名称");
        assert_eq!(escape_controls("a\nb\tc\u{7}"), "a\\nb\\tc\\u{7}");
    }
}
