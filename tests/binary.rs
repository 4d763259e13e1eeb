//! The `qlink-facade` binary as a user runs it: demo mode with no
//! configuration, a config file with secrets from the environment, logs that
//! never show a secret, and a clean stop on SIGTERM.

mod common;

use std::{process::Command, time::Duration};

use common::{
    assert_status,
    config_text::{DEMO_QIANYI, DEMO_QLINK, qianyi_tenant, qlink_tenant, server_toml},
    process::{Running, TempDir, channel, client, free_port},
    req, text_at,
};

#[tokio::test]
async fn demo_mode_serves_both_demo_tenants_and_stops_on_sigterm() {
    let (port, http_port) = (free_port(), free_port());
    let mut running = Running::demo(port, http_port, &[]);
    running.wait_for("demo mode");
    running.wait_for("qlink-facade ready");
    running.wait_for("grpcurl -plaintext");
    let mut client = client(port).await;
    for tenant in ["demo-qlink", "demo-qianyi"] {
        let warehouses = client
            .list_warehouses(req(tenant, Default::default()))
            .await
            .expect("list warehouses")
            .into_inner()
            .warehouses;
        assert!(!warehouses.is_empty(), "{tenant}");
    }
    let metrics = text_at(&format!("http://127.0.0.1:{http_port}/metrics")).await;
    assert!(metrics.contains(r#"tenant="demo-qianyi""#), "{metrics}");
    drop(client);
    let lines = running.stop_when_idle().await;
    assert!(
        lines.iter().any(|line| line.contains("shutting down")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn logs_never_show_a_secret_even_when_calls_fail() {
    // The upstream is the simulator run by the binary itself.
    let dir = TempDir::new("test");
    let accounts_path = dir.write(
        "accounts.toml",
        "[[qlink]]\napp_key = \"demo-app-key\"\napp_secret = \"Sup3r-App-Secret\"\nwarehouse_key = \"demo-warehouse-key\"\n\n[[qianyi]]\naccess_id = \"demo-access-id\"\nsecret_key = \"Sup3r-Secret-Key\"\n",
    );
    let sim_port = free_port();
    let mut simulator = Running::start(
        &[
            "simulate",
            "--listen",
            &format!("127.0.0.1:{sim_port}"),
            "--accounts",
            &accounts_path.to_string_lossy(),
        ],
        &[],
    );
    simulator.wait_for("warehouse simulator ready");

    let port = free_port();
    let store_url = format!("sqlite://{}", dir.join("facade.db").display());
    let [app_key, _, warehouse_key] = DEMO_QLINK;
    let [access_id, _] = DEMO_QIANYI;
    let headers = r#"secret = "Sup3r-Header-Secret"
access_token = "Sup3r-Access-Token"
auth_info = [{ key = "SECRET_KEY", value = "Sup3r-Auth-Info" }]"#;
    let tenants = qlink_tenant(
        "q",
        &format!("http://127.0.0.1:{sim_port}"),
        [app_key, "${Q_SECRET}", warehouse_key],
        headers,
    ) + &qianyi_tenant(
        "y",
        &format!("http://127.0.0.1:{sim_port}/qianyi"),
        [access_id, "${Y_SECRET}"],
        "",
    );
    let config_path = dir.write(
        "facade.toml",
        &(server_toml(port, 0, &store_url) + &tenants),
    );
    let facade = Running::ready_on(
        &config_path,
        &[
            ("Q_SECRET", "Sup3r-App-Secret"),
            ("Y_SECRET", "Wr0ng-Secret-Key"),
        ],
    );
    let mut client = client(port).await;
    client
        .list_warehouses(req("q", Default::default()))
        .await
        .expect("qlink tenant works");
    let status = client
        .list_warehouses(req("y", Default::default()))
        .await
        .expect_err("the wrong secret key is rejected by the warehouse");
    for secret in ["Sup3r", "Wr0ng"] {
        assert!(!status.message().contains(secret), "{}", status.message());
    }
    drop(client);
    let mut lines = facade.stop_when_idle().await;
    lines.extend(simulator.stop());
    assert!(
        lines.iter().any(|line| line.contains("upstream")),
        "debug logs were written"
    );
    for line in &lines {
        for secret in [
            "Sup3r-App-Secret",
            "Sup3r-Secret-Key",
            "Sup3r-Header-Secret",
            "Sup3r-Access-Token",
            "Sup3r-Auth-Info",
            "Wr0ng-Secret-Key",
        ] {
            assert!(
                !line.contains(secret),
                "secret {secret} in log line: {line}"
            );
        }
    }
}

#[tokio::test]
async fn sigterm_ends_open_watch_streams_at_once_and_exits_within_two_seconds() {
    let (port, http_port) = (free_port(), free_port());
    let mut running = Running::demo(port, http_port, &[("RUST_LOG", "info")]);
    running.wait_for("qlink-facade ready");
    let channel = channel(port).await;
    let mut stream = common::push::order_stream(channel, 0).await.expect("watch");
    let signalled = std::time::Instant::now();
    running.signal("TERM");
    let ended = tokio::time::timeout(
        Duration::from_secs(2),
        futures::StreamExt::next(&mut stream),
    )
    .await
    .expect("the stream ends at once");
    let status = ended.expect("with a status").expect_err("not OK");
    assert_status(&status, tonic::Code::Unavailable, &["after_event_id"]);
    drop(stream);
    // Waited for off the runtime: the client's connection must keep running
    // to answer the server's GOAWAY ping and close, as a live client would.
    let lines = tokio::task::spawn_blocking(move || running.stop())
        .await
        .expect("stop the facade");
    let took = signalled.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "exited in {took:?}: {lines:?}"
    );
}

/// A config file with one Qianyi tenant (the simulator need not run) and
/// `store` as its `[store]` section.
fn one_tenant_config(dir: &TempDir, port: u16, store: &str) -> std::path::PathBuf {
    let server = format!(
        "[server]\ngrpc_addr = \"127.0.0.1:{port}\"\nhttp_addr = \"127.0.0.1:0\"\n{store}\n"
    );
    let tenant = qianyi_tenant("y", "http://127.0.0.1:1/qianyi", ["a", "k"], "");
    dir.write("facade.toml", &(server + &tenant))
}

#[test]
fn without_a_store_section_the_default_file_is_made_in_the_working_directory_and_named() {
    let dir = TempDir::new("cwd");
    let config = one_tenant_config(&dir, free_port(), "");
    let mut facade = Running::start_in(&dir, &["--config", &config.to_string_lossy()], &[]);
    let line = facade.wait_for("store open");
    let expected = dir.join("qlink-facade.db");
    assert!(
        line.contains(&expected.display().to_string()),
        "the log names the file: {line}"
    );
    facade.wait_for("qlink-facade ready");
    assert!(expected.exists(), "{} was created", expected.display());
    facade.stop();
}

#[test]
fn a_store_that_cannot_be_opened_stops_start_up_naming_it_without_the_password() {
    let dir = TempDir::new("badstore");
    let config = one_tenant_config(
        &dir,
        free_port(),
        "[store]\nurl = \"postgres://facade:${PGPASSWORD}@127.0.0.1:1/qlink\"\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_qlink-facade"))
        .args(["--config", &config.to_string_lossy()])
        .env("PGPASSWORD", "hunter2")
        .env("RUST_LOG", "trace")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the store postgres://facade:***@127.0.0.1:1/qlink"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn a_facade_a_test_lets_go_of_is_killed_not_left_running() {
    let mut running = Running::demo(free_port(), free_port(), &[]);
    running.wait_for("qlink-facade ready");
    let proc_entry = format!("/proc/{}", running.pid());
    assert!(std::path::Path::new(&proc_entry).exists());
    // What a panicking test does with it.
    drop(running);
    assert!(
        !std::path::Path::new(&proc_entry).exists(),
        "{proc_entry} is still there"
    );
}

#[test]
fn a_bad_config_names_the_tenant_and_key() {
    let dir = TempDir::new("badcfg");
    let path = dir.write(
        "bad.toml",
        &qlink_tenant("acme-us", "https://x", ["1", "${ACME_APP_SECRET}", "k"], ""),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_qlink-facade"))
        .env("QLINK_FACADE_CONFIG", &path)
        .env_remove("ACME_APP_SECRET")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "tenant acme-us: app_secret: environment variable ACME_APP_SECRET is not set"
        ),
        "{stderr}"
    );
}

/// One exported span: trace id, name, attributes as debug text.
type ExportedSpan = (Vec<u8>, String, String);

/// Receives OTLP span exports.
#[derive(Default, Clone)]
struct Collector {
    spans: std::sync::Arc<std::sync::Mutex<Vec<ExportedSpan>>>,
}

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService
    for Collector
{
    async fn export(
        &self,
        request: tonic::Request<
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
        >,
    ) -> Result<
        tonic::Response<
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse,
        >,
        tonic::Status,
    > {
        let mut spans = self.spans.lock().expect("lock");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push((span.trace_id, span.name, format!("{:?}", span.attributes)));
                }
            }
        }
        Ok(tonic::Response::new(Default::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_when_an_endpoint_is_set() {
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let collector_addr = listener.local_addr().expect("addr");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let (port, http_port) = (free_port(), free_port());
    let collector_url = format!("http://{collector_addr}");
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", collector_url.as_str())];
    let mut running = Running::demo(port, http_port, &env);
    running.wait_for("qlink-facade ready");
    let mut client = client(port).await;
    let mut request = req("demo-qianyi", Default::default());
    request.metadata_mut().insert(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            .parse()
            .expect("ascii"),
    );
    client
        .list_warehouses(request)
        .await
        .expect("list warehouses");
    drop(client);
    running.stop_when_idle().await; // flushes the batch exporter

    let spans = collector.spans.lock().expect("lock").clone();
    let trace_id = hex_decode("0af7651916cd43dd8448eb211c80319c");
    let grpc = spans
        .iter()
        .find(|(_, name, _)| name == "grpc")
        .expect("a grpc span");
    let upstream = spans
        .iter()
        .find(|(_, name, _)| name == "upstream")
        .expect("an upstream span");
    assert_eq!(
        grpc.0, trace_id,
        "the call's span continues the caller's trace"
    );
    assert_eq!(
        upstream.0, trace_id,
        "the upstream attempt is in the same trace"
    );
    assert!(
        upstream.2.contains("demo-qianyi") && upstream.2.contains("warehouses"),
        "{}",
        upstream.2
    );
    for (_, _, attributes) in &spans {
        assert!(!attributes.contains("demo-secret-key"), "{attributes}");
    }
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
