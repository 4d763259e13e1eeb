//! The `qlink-facade` binary: see `cli` for what it does.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match qlink_facade::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("qlink-facade: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
