//! Logs and traces: log lines on stderr (text, or JSON by option) filtered
//! by `RUST_LOG` (default `info`); spans exported over OTLP when an endpoint
//! is configured (`[telemetry] otlp_endpoint` or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT`); W3C trace context always propagated.

use std::io::IsTerminal;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

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

/// Installs the global subscriber and propagator; later calls only return
/// a guard (tests start many servers in one process).
pub fn init(config: &TelemetryConfig) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let endpoint = config
        .otlp_endpoint
        .clone()
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .filter(|endpoint| !endpoint.trim().is_empty());
    let mut builder = SdkTracerProvider::builder();
    let mut export_problem = None;
    if let Some(endpoint) = &endpoint {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()
        {
            Ok(exporter) => builder = builder.with_batch_exporter(exporter),
            Err(err) => export_problem = Some(err.to_string()),
        }
    }
    // Without an exporter spans still get ids, so trace context propagates.
    let provider = builder.build();
    let tracer = provider.tracer("qlink-facade");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let log_layer = if config.test_writer {
        tracing_subscriber::fmt::layer()
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
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .boxed()
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(log_layer)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()
        .is_ok();
    if let Some(problem) = export_problem {
        tracing::warn!(error = %problem, "cannot set up OTLP span export; spans are not exported");
    } else if let (true, Some(endpoint)) = (installed, &endpoint) {
        tracing::info!(otlp_endpoint = %endpoint, "exporting spans over OTLP");
    }
    TelemetryGuard {
        provider: installed.then_some(provider),
    }
}
