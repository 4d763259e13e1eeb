//! The `qlink-facade` binary as a child process: started with arguments and
//! environment, its log lines read as they come, stopped with SIGTERM or
//! killed.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use std::path::Path;

use qlink_facade::{
    demo::{DEMO_PUSH_ACCESS_ID, DEMO_PUSH_EXTRA_TYPE, DEMO_PUSH_SECRET_KEY, DEMO_QIANYI_TENANT},
    proto::warehouse_service_client::WarehouseServiceClient,
};

pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_in(&std::env::temp_dir(), args, env)
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
        self.seen
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
        self.seen
    }
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

pub async fn client(port: u16) -> WarehouseServiceClient<tonic::transport::Channel> {
    qlink_facade::upstream::install_crypto_provider();
    WarehouseServiceClient::connect(format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect")
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
    std::fs::write(
        &path,
        format!(
            r#"
[server]
grpc_addr = "127.0.0.1:{grpc}"
http_addr = "127.0.0.1:{http}"

[store]
url = "{store_url}"

[[tenant]]
id = "{DEMO_QIANYI_TENANT}"
protocol = "qianyi"
base_url = "http://127.0.0.1:1/qianyi"
access_id = "unused"
secret_key = "unused"
push = {{ extra_type = "{DEMO_PUSH_EXTRA_TYPE}", access_id = "{DEMO_PUSH_ACCESS_ID}", secret_key = "{DEMO_PUSH_SECRET_KEY}" }}
"#
        ),
    )
    .expect("write config");
    path
}
