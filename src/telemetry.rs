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

/// Makes W3C `traceparent` / `tracestate` the process's propagation format.
pub fn install_propagator() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
}

/// The subscriber [`init`] installs, not yet installed, with what it
/// needs to flush on shutdown. `qlink-bench` times it on one thread.
pub struct Telemetry {
    /// The log and trace layers over a registry.
    pub dispatch: tracing::Dispatch,
    provider: SdkTracerProvider,
    otlp_endpoint: Option<String>,
    export_problem: Option<String>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("otlp_endpoint", &self.otlp_endpoint)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// Builds the subscriber for `config` (and `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub fn new(config: &TelemetryConfig) -> Self {
        let otlp_endpoint = config
            .otlp_endpoint
            .clone()
            .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
            .filter(|endpoint| !endpoint.trim().is_empty());
        let mut builder = SdkTracerProvider::builder();
        let mut export_problem = None;
        if let Some(endpoint) = &otlp_endpoint {
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
        let trace_layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            // Our spans reach OpenTelemetry only through this layer, so
            // making each entered span the current OpenTelemetry context
            // would be work on every poll for no reader.
            .with_context_activation(false)
            // Busy/idle time per span costs two clock reads per poll, and
            // the thread name a string per span; spans keep their start
            // and end times.
            .with_tracked_inactivity(false)
            .with_threads(false);
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
        provider: installed.then_some(provider),
    }
}
