//! Read deadlines on every connection (issue 11, item 7): a client has `HOMEWARD_HEADER_TIMEOUT`
//! to send a request's head and `HOMEWARD_BODY_TIMEOUT` to send its body, or the connection is
//! closed. poem's idle timeout does not cut a client that trickles a head or holds a half-sent
//! body, and hyper's own header timeout needs a timer that poem does not give it, so the
//! deadlines sit on the socket, under hyper.
//!
//! The wrapper reads along with hyper just enough to know where it is: the end of a head
//! (`\r\n\r\n`), its `Content-Length` (or chunked body), and the bytes of the body after it.
//!
//! - Waiting for a head (a new connection, or after an answer was written): the whole head must
//!   arrive within the header timeout, counted from the accept or the last byte written.
//! - Reading a body: no more than the body timeout may pass without a byte of it (as nginx's
//!   `client_body_timeout`: a slow link uploading a video keeps going, a client that stops does
//!   not). Once an answer is written before the body is in (an error, a 503 past the request's
//!   deadline), the rest of it must arrive within one body timeout, however it trickles.
//! - Answering (the body is in, the handler runs): no read deadline; `HOMEWARD_REQUEST_TIMEOUT`
//!   bounds the handler.
//! - HTTP/2 without TLS (prior knowledge): the connection is closed after a header timeout
//!   without any byte read or written.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// A head larger than this is not followed (hyper refuses it long before).
const MAX_HEAD: usize = 1 << 20;

/// How long a client may take to send a request.
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    pub head: Duration,
    pub body: Duration,
}

impl ReadLimits {
    /// `HOMEWARD_HEADER_TIMEOUT` and `HOMEWARD_BODY_TIMEOUT`.
    pub fn of(settings: &crate::settings::Settings) -> ReadLimits {
        ReadLimits {
            head: Duration::from_secs(settings.header_timeout),
            body: Duration::from_secs(settings.body_timeout),
        }
    }
}

/// An acceptor whose connections have read deadlines.
pub struct ReadDeadlines<A> {
    inner: A,
    limits: ReadLimits,
}

impl<A> ReadDeadlines<A> {
    pub fn new(inner: A, limits: ReadLimits) -> Self {
        ReadDeadlines { inner, limits }
    }
}

impl<A: Acceptor> Acceptor for ReadDeadlines<A> {
    type Io = Deadlined<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    fn accept(
        &mut self,
    ) -> impl Future<Output = io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)>> + Send {
        let limits = self.limits;
        let accepted = self.inner.accept();
        async move {
            let (io, local, remote, scheme) = accepted.await?;
            Ok((Deadlined::new(io, limits), local, remote, scheme))
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request's head; the bytes so far.
    Head(Vec<u8>),
    /// Reading a body of `left` bytes still to come; `answered`: an answer went out already.
    Body { left: u64, answered: bool },
    /// Reading a chunked body (or one whose length hyper will refuse), until the answer.
    ChunkedBody,
    /// The request is in; the handler runs.
    Answering,
    /// An HTTP/2 connection: closed after a header timeout without traffic.
    Http2,
}

/// A connection with read deadlines.
pub struct Deadlined<Io> {
    io: Io,
    limits: ReadLimits,
    phase: Phase,
    /// When the current phase's deadline passes (`None`: no deadline now).
    deadline: Option<Pin<Box<Sleep>>>,
    /// Who waits for the next read: woken when a write sets a deadline, so that hyper, already
    /// waiting for the socket, also waits for the deadline.
    reader: Option<Waker>,
}

impl<Io> Deadlined<Io> {
    fn new(io: Io, limits: ReadLimits) -> Self {
        let mut conn = Deadlined {
            io,
            limits,
            phase: Phase::Answering,
            deadline: None,
            reader: None,
        };
        conn.await_head();
        conn
    }

    fn await_head(&mut self) {
        self.phase = Phase::Head(Vec::new());
        self.arm(self.limits.head);
    }

    fn arm(&mut self, after: Duration) {
        let at = Instant::now() + after;
        match &mut self.deadline {
            Some(sleep) => sleep.as_mut().reset(at),
            None => self.deadline = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// Follows the request through `bytes` just read.
    fn on_read(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match &mut self.phase {
                Phase::Head(head) => {
                    // The end may straddle two reads: look from 3 bytes before the new ones.
                    let from = head.len().saturating_sub(3);
                    let take = bytes.len().min(MAX_HEAD.saturating_sub(head.len()).max(1));
                    head.extend_from_slice(&bytes[..take]);
                    let Some(end) = find_head_end(&head[from..]).map(|e| from + e) else {
                        bytes = &bytes[take..];
                        if head.len() >= MAX_HEAD {
                            // Not a head we follow: hyper answers it; stop counting.
                            self.phase = Phase::Answering;
                            self.deadline = None;
                        }
                        continue;
                    };
                    // Bytes of this read after the head belong to the body.
                    let after_head = head.len() - end;
                    bytes = &bytes[take - after_head..];
                    let next = body_after(&head[..end]);
                    self.phase = next;
                    match self.phase {
                        Phase::Body { .. } | Phase::ChunkedBody => self.arm(self.limits.body),
                        Phase::Http2 => self.arm(self.limits.head),
                        _ => self.deadline = None,
                    }
                }
                Phase::Body { left, answered } => {
                    let n = (bytes.len() as u64).min(*left);
                    *left -= n;
                    bytes = &bytes[n as usize..];
                    if *left == 0 {
                        self.phase = Phase::Answering;
                        self.deadline = None;
                    } else if !*answered {
                        self.arm(self.limits.body);
                    }
                }
                Phase::ChunkedBody => {
                    self.arm(self.limits.body);
                    return;
                }
                Phase::Http2 => {
                    self.arm(self.limits.head);
                    return;
                }
                // Pipelined bytes are hyper's to buffer; the next head is followed after the
                // answer.
                Phase::Answering => return,
            }
        }
    }

    /// Follows the answer: `start` is the beginning of what was just written.
    fn on_write(&mut self, start: &[u8]) {
        if let Some(reader) = self.reader.take() {
            reader.wake();
        }
        // "100 Continue" asks for the body: it is not an answer.
        let informational = start.starts_with(b"HTTP/1.1 1");
        match &mut self.phase {
            // The answer is on its way: the next request's head is awaited from the last byte
            // written (a long download keeps its connection).
            Phase::Head(_) | Phase::ChunkedBody | Phase::Answering => {
                if !informational {
                    self.await_head();
                }
            }
            Phase::Http2 => self.arm(self.limits.head),
            Phase::Body { answered, .. } => {
                if !informational && !*answered {
                    // Nobody reads the rest: it has one body timeout, however it trickles.
                    *answered = true;
                    self.arm(self.limits.body);
                }
            }
        }
    }

    fn deadline_passed(&mut self, cx: &mut Context<'_>) -> bool {
        match &mut self.deadline {
            Some(sleep) => sleep.as_mut().poll(cx).is_ready(),
            None => false,
        }
    }
}

/// Where the head ends (the index just after its blank line).
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// What follows a head: a body of `Content-Length` bytes, a chunked body, nothing, or HTTP/2.
fn body_after(head: &[u8]) -> Phase {
    if head.starts_with(b"PRI * HTTP/2.0") {
        return Phase::Http2;
    }
    let text = String::from_utf8_lossy(head);
    let mut length = None;
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Phase::ChunkedBody;
        }
        if name.eq_ignore_ascii_case("content-length") {
            match (length, value.trim().parse::<u64>()) {
                (None, Ok(n)) => length = Some(n),
                (Some(m), Ok(n)) if m == n => {}
                // Hyper refuses it; the deadline holds until the answer.
                _ => return Phase::ChunkedBody,
            }
        }
    }
    match length {
        Some(n) if n > 0 => Phase::Body {
            left: n,
            answered: false,
        },
        _ => Phase::Answering,
    }
}

fn timed_out(phase: &Phase) -> io::Error {
    let what = match phase {
        Phase::Body { .. } | Phase::ChunkedBody => "request body not received in time",
        Phase::Http2 => "HTTP/2 connection idle",
        _ => "request head not received in time",
    };
    io::Error::new(io::ErrorKind::TimedOut, what)
}

impl<Io: AsyncRead + Unpin> AsyncRead for Deadlined<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.on_read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.deadline_passed(cx) => {
                tracing::debug!(reason = %timed_out(&this.phase), "slow client cut off");
                Poll::Ready(Err(timed_out(&this.phase)))
            }
            Poll::Pending => {
                this.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Deadlined<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            this.on_write(&buf[..n]);
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            this.on_write(first);
        }
        written
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ReadLimits {
        ReadLimits {
            head: Duration::from_secs(1),
            body: Duration::from_secs(2),
        }
    }

    #[tokio::test]
    async fn follows_a_head_split_across_reads_and_its_body() {
        let mut conn = Deadlined::new((), limits());
        conn.on_read(b"POST /x HTTP/1.1\r\nContent-Length: 5\r");
        assert!(matches!(conn.phase, Phase::Head(_)));
        conn.on_read(b"\n\r\nab");
        assert_eq!(
            conn.phase,
            Phase::Body {
                left: 3,
                answered: false
            }
        );
        conn.on_write(b"HTTP/1.1 100 Continue\r\n\r\n");
        conn.on_read(b"cde");
        assert_eq!(conn.phase, Phase::Answering);
        assert!(conn.deadline.is_none());
        conn.on_write(b"HTTP/1.1 200 OK\r\n");
        assert!(matches!(conn.phase, Phase::Head(ref h) if h.is_empty()));
    }

    #[tokio::test]
    async fn a_request_without_a_body_is_answering_and_chunked_waits_for_the_answer() {
        let mut conn = Deadlined::new((), limits());
        conn.on_read(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(conn.phase, Phase::Answering);
        conn.on_write(b"HTTP/1.1 200 OK\r\n");
        conn.on_read(b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\n");
        assert_eq!(conn.phase, Phase::ChunkedBody);
        assert_eq!(
            body_after(b"POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"),
            Phase::ChunkedBody
        );
        assert_eq!(body_after(b"PRI * HTTP/2.0\r\n\r\n"), Phase::Http2);
    }
}
