//! The `qlink-facade` binary as a child process: started with arguments and
//! environment, its log lines read as they come, stopped with SIGTERM or
//! killed; and what such tests share: ports, a scratch directory, config
//! files, a channel to the process.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use std::path::{Path, PathBuf};

use qlink_facade::{
    demo::{DEMO_PUSH_ACCESS_ID, DEMO_PUSH_EXTRA_TYPE, DEMO_PUSH_SECRET_KEY, DEMO_QIANYI_TENANT},
    proto::warehouse_service_client::WarehouseServiceClient,
};
use tonic::transport::Channel;

use super::config_text::{qianyi_tenant, server_toml};

/// A running `qlink-facade`, killed when dropped: a test that panics
/// leaves no process behind.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // A child already waited for is not signalled again.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_in(&std::env::temp_dir(), args, env)
    }

    /// Starts the binary in demo mode, serving on these ports.
    pub fn demo(grpc: u16, http: u16, env: &[(&str, &str)]) -> Self {
        let (grpc, http) = (format!("127.0.0.1:{grpc}"), format!("127.0.0.1:{http}"));
        Self::start(&["--grpc-addr", &grpc, "--http-addr", &http], env)
    }

    /// Starts the binary on the config file at `config`, and waits until it
    /// is ready.
    pub fn ready_on(config: &Path, env: &[(&str, &str)]) -> Self {
        let mut running = Self::start(&["--config", &config.to_string_lossy()], env);
        running.wait_for("qlink-facade ready");
        running
    }

    /// Starts the binary with `dir` as its working directory.
    pub fn start_in(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qlink-facade"));
        command
            .current_dir(dir)
            .args(args)
            .env_remove("QLINK_FACADE_CONFIG")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start qlink-facade");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 60 s) for a log line containing `text`.
    pub fn wait_for(&mut self, text: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("no log line with {text:?}; saw:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (e.g. "HUP") to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{signal} {pid}");
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }

    /// [`Running::stop`] once this test's connections have closed: drop
    /// the clients first. The HTTP/2 connection tasks get a moment to
    /// close before the blocking wait stops the test's runtime.
    pub async fn stop_when_idle(self) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.stop()
    }

    /// SIGTERM, then every remaining log line.
    pub fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "clean exit on SIGTERM, got {status:?}");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A channel to the gRPC listener on `port`.
pub async fn channel(port: u16) -> Channel {
    qlink_facade::upstream::install_crypto_provider();
    Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

pub async fn client(port: u16) -> WarehouseServiceClient<Channel> {
    WarehouseServiceClient::new(channel(port).await)
}

/// A directory of its own for one test (`qlink-facade-{name}-{pid}` in
/// the system's temp dir), removed with what is in it when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("qlink-facade-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// Writes `text` to the file `name` in it; the file's path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect(name);
        path
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config with the demo Qianyi tenant's push settings (its warehouse is
/// never called) on `store_url`.
pub fn push_receiver_config(
    dir: &Path,
    grpc: u16,
    http: u16,
    store_url: &str,
) -> std::path::PathBuf {
    let path = dir.join("facade.toml");
    let push = format!(
        r#"push = {{ extra_type = "{DEMO_PUSH_EXTRA_TYPE}", access_id = "{DEMO_PUSH_ACCESS_ID}", secret_key = "{DEMO_PUSH_SECRET_KEY}" }}"#
    );
    let tenant = qianyi_tenant(
        DEMO_QIANYI_TENANT,
        "http://127.0.0.1:1/qianyi",
        ["unused", "unused"],
        &push,
    );
    let text = server_toml(grpc, http, store_url) + &tenant;
    std::fs::write(&path, text).expect("write config");
    path
}
