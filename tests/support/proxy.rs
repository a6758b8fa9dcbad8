//! A TCP proxy in front of a service (PostgreSQL, Redis) that a test controls, to make the
//! faults operators meet: a silent link (`pause`: connections stay open, nothing is forwarded),
//! connections reset (`reset`), and a server that refuses connections (`refuse`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Proxy {
    /// `127.0.0.1:PORT`, where clients connect instead of the service.
    pub address: String,
    target: String,
    paused: watch::Sender<bool>,
    reset: watch::Sender<u64>,
    accepting: Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    /// A proxy forwarding to `target` (`host:port`).
    pub async fn start(target: &str) -> Arc<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().unwrap().to_string();
        let proxy = Arc::new(Proxy {
            address,
            target: target.to_owned(),
            paused: watch::channel(false).0,
            reset: watch::channel(0).0,
            accepting: Mutex::new(None),
        });
        proxy.accept_on(listener);
        proxy
    }

    /// The same URL with its `host:port` replaced by the proxy's.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with ://");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let user = authority
            .rfind('@')
            .map(|at| &authority[..=at])
            .unwrap_or_default();
        format!("{scheme}://{user}{}{path}", self.address)
    }

    fn accept_on(&self, listener: TcpListener) {
        let target = self.target.clone();
        let paused = self.paused.subscribe();
        let reset = self.reset.subscribe();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (target, paused, reset) = (target.clone(), paused.clone(), reset.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&target).await {
                        relay(client, server, paused, reset).await;
                    }
                });
            }
        });
        *self.accepting.lock().unwrap() = Some(task);
    }

    /// Forward again: after `pause`, deliver what waited; after `refuse`, accept again.
    pub async fn forward(&self) {
        self.paused.send_replace(false);
        let listening = self
            .accepting
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|t| !t.is_finished());
        if !listening {
            let listener = TcpListener::bind(&self.address)
                .await
                .expect("listen on the proxy's port again");
            self.accept_on(listener);
        }
    }

    /// The link goes silent: connections stay open, nothing passes either way.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Every open connection is reset (RST) at both ends.
    pub fn reset(&self) {
        self.reset.send_modify(|generation| *generation += 1);
    }

    /// Open connections are reset and new ones refused, as by a server that is down.
    pub async fn refuse(&self) {
        let accepting = self.accepting.lock().unwrap().take();
        if let Some(task) = accepting {
            task.abort();
            let _ = task.await;
        }
        self.reset();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.accepting.lock().unwrap().take() {
            task.abort();
        }
        self.reset.send_modify(|generation| *generation += 1);
    }
}

async fn relay(
    mut client: TcpStream,
    mut server: TcpStream,
    paused: watch::Receiver<bool>,
    mut reset: watch::Receiver<u64>,
) {
    reset.mark_unchanged();
    let was_reset = {
        let (mut client_in, mut client_out) = client.split();
        let (mut server_in, mut server_out) = server.split();
        tokio::select! {
            _ = pump(&mut client_in, &mut server_out, paused.clone()) => false,
            _ = pump(&mut server_in, &mut client_out, paused.clone()) => false,
            _ = reset.changed() => true,
        }
    };
    if was_reset {
        let _ = client.set_zero_linger();
        let _ = server.set_zero_linger();
    }
}

async fn pump(from: &mut ReadHalf<'_>, to: &mut WriteHalf<'_>, mut paused: watch::Receiver<bool>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// Waits until `check` holds, trying every 50 ms for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
