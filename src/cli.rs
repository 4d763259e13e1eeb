//! The command line: serve (from a config file, or in demo mode) or run the
//! simulator alone.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{
    app::App,
    config::Config,
    demo,
    metrics::Metrics,
    reload::ConfigSource,
    simulator::{AccountsFile, QianyiAccount, QlinkAccount, SimulatorConfig, SimulatorHandle},
    telemetry,
};

/// How long shutdown waits for in-flight calls.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

/// One typed gRPC API over the qlink and Qianyi warehouse protocols.
#[derive(Debug, Parser)]
#[command(name = "qlink-facade", version)]
pub struct Cli {
    /// TOML configuration file; without one, demo tenants are served against
    /// the built-in simulator.
    #[arg(long, env = "QLINK_FACADE_CONFIG")]
    config: Option<PathBuf>,
    /// Overrides `[server] grpc_addr`.
    #[arg(long)]
    grpc_addr: Option<SocketAddr>,
    /// Overrides `[server] http_addr` (metrics and health).
    #[arg(long)]
    http_addr: Option<SocketAddr>,
    /// Log lines as JSON objects (also `[telemetry] json_logs = true`).
    #[arg(long)]
    json_logs: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs only the warehouse simulator (both protocols), for other teams'
    /// clients and tests.
    Simulate(SimulateArgs),
    /// Asks a running facade's gRPC health service; exits 0 when it is
    /// SERVING, 1 otherwise (for container health checks).
    Health(crate::probe::HealthArgs),
}

#[derive(Debug, clap::Args)]
struct SimulateArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// qlink appKey the simulator accepts.
    #[arg(long, default_value = "demo-app-key")]
    qlink_app_key: String,
    /// qlink appSecret the simulator verifies signatures with.
    #[arg(
        long,
        env = "SIM_QLINK_APP_SECRET",
        default_value = "demo-app-secret",
        hide_env_values = true
    )]
    qlink_app_secret: String,
    /// qlink warehouseKey the simulator accepts.
    #[arg(long, default_value = "demo-warehouse-key")]
    qlink_warehouse_key: String,
    /// Qianyi accessId the simulator accepts.
    #[arg(long, default_value = "demo-access-id")]
    qianyi_access_id: String,
    /// Qianyi secretKey the simulator verifies signatures with.
    #[arg(
        long,
        env = "SIM_QIANYI_SECRET_KEY",
        default_value = "demo-secret-key",
        hide_env_values = true
    )]
    qianyi_secret_key: String,
    /// Seconds before a created order ships.
    #[arg(long, default_value_t = 2)]
    ship_after_secs: u64,
    /// TOML file of accounts (`[[qlink]] app_key, app_secret, warehouse_key`,
    /// `[[qianyi]] access_id, secret_key`); replaces the account flags.
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first), for a
    /// warehouse behind a private CA; needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Runs the command line; the error is printed by `main`.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Simulate(ref args)) => {
            let _telemetry = telemetry::init(&Default::default());
            simulate(args).await
        }
        Some(Command::Health(ref args)) => Ok(crate::probe::run(args).await?),
        None => serve(cli).await,
    }
}

async fn serve(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let file_config = match &cli.config {
        Some(path) => Some(Config::load(&path.to_string_lossy(), &|name| {
            std::env::var(name).ok()
        })?),
        None => None,
    };
    let mut telemetry_config = file_config
        .as_ref()
        .map(|c| c.telemetry.clone())
        .unwrap_or_default();
    telemetry_config.json_logs |= cli.json_logs;
    let _telemetry = telemetry::init(&telemetry_config);

    // Kept alive for the life of the server in demo mode.
    let mut demo_simulator = None;
    let demo_mode = file_config.is_none();
    let mut config = match file_config {
        Some(config) => config,
        None => {
            let simulator_config = SimulatorConfig::default();
            let simulator = SimulatorHandle::spawn(
                simulator_config.clone(),
                SocketAddr::from(([127, 0, 0, 1], 0)),
            )
            .await?;
            let config = demo::demo_config(
                &simulator_config,
                simulator.qlink_base_url(),
                simulator.qianyi_endpoint(),
            );
            tracing::info!(
                simulator = %simulator.addr(),
                tenants = %format!("{} (qlink), {} (qianyi)", demo::DEMO_QLINK_TENANT, demo::DEMO_QIANYI_TENANT),
                "demo mode: no configuration given, serving demo tenants against the built-in warehouse simulator"
            );
            demo_simulator = Some(simulator);
            config
        }
    };
    // As the file says: what a reload compares the file with.
    let as_loaded = config.clone();
    if let Some(addr) = cli.grpc_addr {
        config.server.grpc_addr = addr;
    }
    if let Some(addr) = cli.http_addr {
        config.server.http_addr = addr;
    }

    // Every connection is a file descriptor: let the connection caps, not
    // a default soft limit of 1,024, be what refuses them.
    match crate::listener::raise_open_file_limit() {
        Some(limit) => tracing::info!(
            open_files = limit,
            max_connections = config.server.limits.max_connections,
            "open file limit"
        ),
        None => tracing::debug!("the open file limit is left as it is"),
    }
    let metrics = Metrics::shared();
    let mut app = App::open(&config, metrics).await?;
    if let Some(path) = &cli.config {
        let source = ConfigSource {
            path: path.clone(),
            env: Arc::new(|name| std::env::var(name).ok()),
        };
        app.reload_from(source, as_loaded);
    }
    let listener = TcpListener::bind(config.server.grpc_addr)
        .await
        .map_err(|err| {
            format!(
                "cannot listen on grpc_addr {}: {err}",
                config.server.grpc_addr
            )
        })?;
    let addr = listener.local_addr()?;

    let http_listener = match TcpListener::bind(config.server.http_addr).await {
        Ok(http_listener) => {
            let http_addr = http_listener.local_addr()?;
            tracing::info!(http_addr = %http_addr, "serving /metrics, /healthz, /readyz and the push webhooks");
            Some(http_listener)
        }
        // Demo mode should start even when the default port is taken.
        Err(err) if demo_mode => {
            tracing::warn!(http_addr = %config.server.http_addr, error = %err, "cannot listen for metrics and health; continuing without them");
            None
        }
        Err(err) => {
            return Err(format!(
                "cannot listen on http_addr {}: {err}",
                config.server.http_addr
            )
            .into());
        }
    };

    let signal = shutdown_signal();
    tracing::info!(grpc_addr = %addr, tenants = ?app.tenants().load().ids(), "qlink-facade ready");
    if demo_mode {
        tracing::info!(
            "try: grpcurl -plaintext -H 'x-tenant-id: {}' {addr} qlink.v1.WarehouseService/ListWarehouses",
            demo::DEMO_QLINK_TENANT
        );
    }
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let serving = app.serve(listener, http_listener, async move {
        signal.await;
        let _ = signalled.send(());
    });
    // Drain in-flight calls, but do not wait forever on a stuck client.
    let drain_limit = async move {
        match on_signal.await {
            Ok(()) => tokio::time::sleep(DRAIN_LIMIT).await,
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        result = serving => result?,
        () = drain_limit => tracing::warn!(limit_secs = DRAIN_LIMIT.as_secs(), "in-flight calls did not finish in time; stopping anyway"),
    }
    tracing::info!("qlink-facade stopped");
    if let Some(simulator) = demo_simulator {
        simulator.shutdown().await;
    }
    Ok(())
}

async fn simulate(args: &SimulateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (qlink_accounts, qianyi_accounts) = match &args.accounts {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read accounts file {}: {err}", path.display()))?;
            let file: AccountsFile = toml::from_str(&text)
                .map_err(|err| format!("accounts file {} is not valid: {err}", path.display()))?;
            (file.qlink, file.qianyi)
        }
        None => (
            vec![QlinkAccount {
                app_key: args.qlink_app_key.clone(),
                app_secret: args.qlink_app_secret.clone(),
                warehouse_key: args.qlink_warehouse_key.clone(),
            }],
            vec![QianyiAccount {
                access_id: args.qianyi_access_id.clone(),
                secret_key: args.qianyi_secret_key.clone(),
            }],
        ),
    };
    let config = SimulatorConfig {
        qlink_accounts,
        qianyi_accounts,
        ship_after: std::time::Duration::from_secs(args.ship_after_secs),
        ..SimulatorConfig::default()
    };
    let simulator = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let read = |path: &PathBuf| {
                std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
            };
            SimulatorHandle::spawn_tls(config, args.listen, &read(cert)?, &read(key)?).await?
        }
        _ => SimulatorHandle::spawn(config, args.listen).await?,
    };
    let signal = shutdown_signal();
    tracing::info!(
        qlink_base_url = %simulator.qlink_base_url(),
        qianyi_endpoint = %simulator.qianyi_endpoint(),
        "warehouse simulator ready"
    );
    signal.await;
    simulator.shutdown().await;
    Ok(())
}

/// Completes on ctrl-c or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal sent as soon as
/// the process says it is ready is not lost (nor fatal).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = signals;
            let interrupted = async {
                match &mut interrupt {
                    Some(signal) => drop(signal.recv().await),
                    None => std::future::pending().await,
                }
            };
            let terminated = async {
                match &mut terminate {
                    Some(signal) => drop(signal.recv().await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = interrupted => {},
                () = terminated => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: draining in-flight calls");
    }
}
