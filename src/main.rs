//! The `qlink-facade` binary: see `cli` for what it does.

// The facade allocates and frees many small buffers per call (JSON, HTTP/2
// frames, headers); mimalloc does that for about half glibc's CPU. See
// BENCHMARKS.md.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
