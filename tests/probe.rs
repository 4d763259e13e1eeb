//! `qlink-facade health`, as a container's HEALTHCHECK runs it: exit 0 with
//! one line against a serving facade, exit 1 with a clear message when
//! nothing listens, when the listener never answers, or when the service is
//! unknown.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

/// The facade binary in demo mode on ports the kernel picks; killed on drop.
struct DemoFacade {
    child: Child,
    grpc_addr: SocketAddr,
}

impl DemoFacade {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qlink-facade"))
            .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
            .env_remove("QLINK_FACADE_CONFIG")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qlink-facade");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        // The ready line names the address the listener got.
        let mut seen = Vec::new();
        let grpc_addr = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no ready line; saw:\n{}", seen.join("\n")));
            if line.contains("qlink-facade ready")
                && let Some(addr) = line
                    .split_whitespace()
                    .find_map(|field| field.strip_prefix("grpc_addr="))
            {
                break addr.parse().expect("grpc_addr is an address");
            }
            seen.push(line);
        };
        Self { child, grpc_addr }
    }
}

impl Drop for DemoFacade {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qlink-facade"))
        .arg("health")
        .args(args)
        .env_remove("QLINK_FACADE_CONFIG")
        .output()
        .expect("run qlink-facade health")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn health_exits_0_with_one_line_when_the_facade_serves() {
    let facade = DemoFacade::start();
    let addr = facade.grpc_addr.to_string();

    let whole_server = health(&["--grpc-addr", &addr]);
    assert_eq!(
        whole_server.status.code(),
        Some(0),
        "stderr: {}",
        text(&whole_server.stderr)
    );
    assert_eq!(
        text(&whole_server.stdout),
        format!("health: {addr} reports the server as SERVING\n")
    );

    let one_service = health(&["--grpc-addr", &addr, "--service", "qlink.v1.OrderService"]);
    assert_eq!(
        one_service.status.code(),
        Some(0),
        "stderr: {}",
        text(&one_service.stderr)
    );
    assert!(
        text(&one_service.stdout).contains(r#"service "qlink.v1.OrderService" as SERVING"#),
        "{}",
        text(&one_service.stdout)
    );
}

#[test]
fn health_exits_1_for_a_service_the_facade_does_not_serve() {
    let facade = DemoFacade::start();
    let output = health(&[
        "--grpc-addr",
        &facade.grpc_addr.to_string(),
        "--service",
        "qlink.v1.NoSuchService",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(r#"Check for service "qlink.v1.NoSuchService" with NOT_FOUND"#),
        "{stderr}"
    );
}

#[test]
fn health_exits_1_naming_the_address_when_nothing_listens() {
    // A port that was free a moment ago: bound, then closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let output = health(&["--grpc-addr", &addr.to_string()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&format!("health: cannot connect to {addr}: "))
            && stderr.contains("refused"),
        "{stderr}"
    );
}

#[test]
fn health_gives_up_at_its_timeout_when_the_listener_never_answers() {
    // Accepts TCP (the kernel's backlog does) but never speaks HTTP/2.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr");
    let started = Instant::now();
    let output = health(&["--grpc-addr", &addr.to_string(), "--timeout-ms", "300"]);
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("health: no answer from {addr} within 300 ms")),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    drop(silent);
}
