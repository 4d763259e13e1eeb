//! A gRPC connection as tonic gets it: the stream (plain TCP or TLS), its
//! place under the connection cap, and a bound on how long the client may
//! take to send the HTTP/2 connection preface and its first SETTINGS frame.
//! tonic and hyper have no such bound, so a client sending one byte a
//! second would otherwise hold the connection forever.
//!
//! The bound is on connection set-up only, as grpc-go's `ConnectionTimeout`:
//! a gRPC channel that connects early and sends its first call minutes
//! later is normal, and HTTP/2 keepalive pings (see `server`) close a peer
//! that stops answering after the preface.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};
use tonic::transport::server::Connected;

use super::OpenSlot;

/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, which every HTTP/2 client sends first.
const PREFACE_LEN: usize = 24;
/// A frame header: 3 bytes of length, type, flags, 4 bytes of stream id.
const FRAME_HEADER_LEN: usize = 9;

/// See the module documentation.
#[derive(Debug)]
pub struct Http2Connection<IO> {
    io: IO,
    slot: OpenSlot,
    /// Until the preface and first frame are in; then `None` and the
    /// connection costs nothing more than the stream it wraps.
    set_up: Option<SetUp>,
}

#[derive(Debug)]
struct SetUp {
    deadline: Pin<Box<Sleep>>,
    /// Bytes read so far.
    seen: usize,
    /// The first frame's header, as its bytes arrive.
    frame_header: [u8; FRAME_HEADER_LEN],
}

impl SetUp {
    /// Takes note of `bytes`, the next ones read; true once the preface and
    /// the whole first frame have been read.
    fn saw(&mut self, bytes: &[u8]) -> bool {
        for (offset, byte) in bytes.iter().enumerate() {
            let position = self.seen + offset;
            if let Some(slot) = position
                .checked_sub(PREFACE_LEN)
                .and_then(|index| self.frame_header.get_mut(index))
            {
                *slot = *byte;
            }
        }
        self.seen += bytes.len();
        let header_end = PREFACE_LEN + FRAME_HEADER_LEN;
        if self.seen < header_end {
            return false;
        }
        let [a, b, c, ..] = self.frame_header;
        let payload = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
        self.seen >= header_end + payload
    }
}

impl<IO> Http2Connection<IO> {
    /// `io`, which must have sent its preface and first frame by `deadline`.
    pub fn new(io: IO, deadline: Instant, slot: OpenSlot) -> Self {
        Self {
            io,
            slot,
            set_up: Some(SetUp {
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
                seen: 0,
                frame_header: [0; FRAME_HEADER_LEN],
            }),
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Http2Connection<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if let Some(set_up) = &mut this.set_up
                    && set_up.saw(&buf.filled()[before..])
                {
                    this.set_up = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                if let Some(set_up) = &mut this.set_up
                    && set_up.deadline.as_mut().poll(cx).is_ready()
                {
                    this.set_up = None;
                    this.slot.record_timed_out();
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no HTTP/2 preface and SETTINGS within header_read_timeout",
                    )));
                }
                Poll::Pending
            }
            failed => failed,
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Http2Connection<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// What tonic puts in each request's extensions: the stream's own, so
/// over TLS `request.peer_certs()` finds the client's certificate.
impl<IO: Connected> Connected for Http2Connection<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_up() -> SetUp {
        SetUp {
            deadline: Box::pin(tokio::time::sleep(std::time::Duration::from_secs(60))),
            seen: 0,
            frame_header: [0; FRAME_HEADER_LEN],
        }
    }

    #[tokio::test]
    async fn set_up_ends_with_the_first_frame_however_the_bytes_arrive() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        // SETTINGS with two 6-byte settings.
        bytes.extend([0, 0, 12, 4, 0, 0, 0, 0, 0]);
        bytes.extend([0u8; 12]);
        for chunk in [1, 5, 24, bytes.len()] {
            let mut state = set_up();
            let mut done = false;
            for (index, piece) in bytes.chunks(chunk).enumerate() {
                done = state.saw(piece);
                let last = (index + 1) * chunk >= bytes.len();
                assert_eq!(done, last, "chunks of {chunk}: piece {index}");
            }
            assert!(done);
        }
    }

    #[tokio::test]
    async fn an_empty_settings_frame_is_enough() {
        let mut state = set_up();
        assert!(!state.saw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        assert!(!state.saw(&[0, 0, 0, 4, 0, 0, 0, 0]));
        assert!(state.saw(&[0]));
    }
}
