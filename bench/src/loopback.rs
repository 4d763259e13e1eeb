//! Loopback alone: what a round trip over loopback TCP costs on this
//! machine, with no HTTP, and what a process in the middle that does no
//! work adds to it. The floor under the facade's added latency.
//!
//! An echo server runs on the warehouse's runtime and a relay on the
//! facade's, so the threads and wake-ups are where the real calls put them.

use std::{io, net::SocketAddr, sync::Arc};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::Mutex,
};

/// Bytes each way per round trip: about a small gRPC call's frames.
pub const MESSAGE_BYTES: usize = 64;

async fn bind() -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
}

async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Accepts connections on the current runtime, each served by `serve`.
fn accept_each<F, Fut>(listener: TcpListener, serve: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            if stream.set_nodelay(true).is_ok() {
                tokio::spawn(serve(stream));
            }
        }
    });
}

/// Starts an echo server on the current runtime: each message comes back as is.
pub async fn spawn_echo() -> io::Result<SocketAddr> {
    let listener = bind().await?;
    let addr = listener.local_addr()?;
    accept_each(listener, |mut stream| async move {
        let mut message = [0; MESSAGE_BYTES];
        loop {
            stream.read_exact(&mut message).await?;
            stream.write_all(&message).await?;
        }
    });
    Ok(addr)
}

/// Starts a relay on the current runtime: each message goes on to `next`
/// over a connection of its own, and the answer comes back.
pub async fn spawn_relay(next: SocketAddr) -> io::Result<SocketAddr> {
    let listener = bind().await?;
    let addr = listener.local_addr()?;
    accept_each(listener, move |mut stream| async move {
        let mut upstream = connect(next).await?;
        let mut message = [0; MESSAGE_BYTES];
        loop {
            stream.read_exact(&mut message).await?;
            upstream.write_all(&message).await?;
            upstream.read_exact(&mut message).await?;
            stream.write_all(&message).await?;
        }
    });
    Ok(addr)
}

/// One connection, one round trip at a time.
#[derive(Clone)]
pub struct Client {
    stream: Arc<Mutex<TcpStream>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            stream: Arc::new(Mutex::new(connect(addr).await?)),
        })
    }

    pub async fn round_trip(&self) -> Result<(), String> {
        let mut stream = self.stream.lock().await;
        let mut message = [7; MESSAGE_BYTES];
        stream
            .write_all(&message)
            .await
            .map_err(|err| err.to_string())?;
        stream
            .read_exact(&mut message)
            .await
            .map_err(|err| err.to_string())?;
        if message != [7; MESSAGE_BYTES] {
            return Err("the echo changed the message".to_owned());
        }
        Ok(())
    }
}

/// Where the two ends listen.
#[derive(Debug, Clone, Copy)]
pub struct Addrs {
    pub echo: SocketAddr,
    pub relay: SocketAddr,
}
