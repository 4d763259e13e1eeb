//! The command line: serve (from a config file, or in demo mode) or run the
//! simulator alone.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::{
    config::Config,
    demo,
    server,
    simulator::{QianyiAccount, QlinkAccount, SimulatorConfig, SimulatorHandle},
    tenant::TenantRegistry,
};

/// One typed gRPC API over the qlink and Qianyi warehouse protocols.
#[derive(Debug, Parser)]
#[command(name = "qlink-facade", version)]
pub struct Cli {
    /// TOML configuration file; without one, demo tenants are served against
    /// the built-in simulator.
    #[arg(long, env = "QLINK_FACADE_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Overrides `[server] grpc_addr`.
    #[arg(long)]
    grpc_addr: Option<SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs only the warehouse simulator (both protocols), for other teams'
    /// clients and tests.
    Simulate(SimulateArgs),
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
    #[arg(long, env = "SIM_QLINK_APP_SECRET", default_value = "demo-app-secret", hide_env_values = true)]
    qlink_app_secret: String,
    /// qlink warehouseKey the simulator accepts.
    #[arg(long, default_value = "demo-warehouse-key")]
    qlink_warehouse_key: String,
    /// Qianyi accessId the simulator accepts.
    #[arg(long, default_value = "demo-access-id")]
    qianyi_access_id: String,
    /// Qianyi secretKey the simulator verifies signatures with.
    #[arg(long, env = "SIM_QIANYI_SECRET_KEY", default_value = "demo-secret-key", hide_env_values = true)]
    qianyi_secret_key: String,
    /// Seconds before a created order ships.
    #[arg(long, default_value_t = 2)]
    ship_after_secs: u64,
}

/// Runs the command line; the error is printed by `main`.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    crate::telemetry::init();
    match cli.command {
        Some(Command::Simulate(args)) => simulate(args).await,
        None => serve(cli.config, cli.grpc_addr).await,
    }
}

async fn serve(config_path: Option<PathBuf>, grpc_addr: Option<SocketAddr>) -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive for the life of the server in demo mode.
    let mut demo_simulator = None;
    let mut config = match &config_path {
        Some(path) => Config::load(&path.to_string_lossy(), &|name| std::env::var(name).ok())?,
        None => {
            let simulator_config = SimulatorConfig::default();
            let simulator = SimulatorHandle::spawn(simulator_config.clone(), SocketAddr::from(([127, 0, 0, 1], 0))).await?;
            let config = demo::demo_config(&simulator_config, simulator.qlink_base_url(), simulator.qianyi_endpoint());
            tracing::info!(
                simulator = %simulator.addr(),
                tenants = %format!("{} (qlink), {} (qianyi)", demo::DEMO_QLINK_TENANT, demo::DEMO_QIANYI_TENANT),
                "demo mode: no configuration given, serving demo tenants against the built-in warehouse simulator"
            );
            demo_simulator = Some(simulator);
            config
        }
    };
    if let Some(addr) = grpc_addr {
        config.server.grpc_addr = addr;
    }
    let tenants = Arc::new(TenantRegistry::build(&config.tenants)?);
    let listener = TcpListener::bind(config.server.grpc_addr).await.map_err(|err| {
        format!("cannot listen on grpc_addr {}: {err}", config.server.grpc_addr)
    })?;
    let addr = listener.local_addr()?;
    tracing::info!(grpc_addr = %addr, tenants = ?tenants.ids(), "qlink-facade ready");
    if demo_simulator.is_some() {
        tracing::info!(
            "try: grpcurl -plaintext -H 'x-tenant-id: {}' {addr} qlink.v1.WarehouseService/ListWarehouses",
            demo::DEMO_QLINK_TENANT
        );
    }
    server::serve(listener, tenants, shutdown_signal()).await?;
    tracing::info!("qlink-facade stopped");
    if let Some(simulator) = demo_simulator {
        simulator.shutdown().await;
    }
    Ok(())
}

async fn simulate(args: SimulateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let config = SimulatorConfig {
        qlink_accounts: vec![QlinkAccount {
            app_key: args.qlink_app_key,
            app_secret: args.qlink_app_secret,
            warehouse_key: args.qlink_warehouse_key,
        }],
        qianyi_accounts: vec![QianyiAccount {
            access_id: args.qianyi_access_id,
            secret_key: args.qianyi_secret_key,
        }],
        ship_after: std::time::Duration::from_secs(args.ship_after_secs),
        ..SimulatorConfig::default()
    };
    let simulator = SimulatorHandle::spawn(config, args.listen).await?;
    tracing::info!(
        qlink_base_url = %simulator.qlink_base_url(),
        qianyi_endpoint = %simulator.qianyi_endpoint(),
        "warehouse simulator ready"
    );
    shutdown_signal().await;
    simulator.shutdown().await;
    Ok(())
}

/// Completes on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight calls");
}
