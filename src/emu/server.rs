//! Serving the emulator over HTTP: a listener, one task per connection, and a shutdown signal.
//!
//! [`start`] binds `127.0.0.1` (port 0 for an ephemeral port, as tests do) and returns a
//! [`Running`] handle with the endpoint URL; dropping or calling [`Running::shutdown`] stops
//! accepting and lets in-flight connections finish.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::gateway::Gateway;
use super::Emulator;

/// A running emulator.
#[derive(Debug)]
pub struct Running {
    pub emulator: Arc<Emulator>,
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://localhost:PORT` (for virtual-hosted-style addressing: `BUCKET.localhost:PORT`).
    pub fn localhost_endpoint(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }

    /// Waits until the server stops (it runs until shut down).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves `emu` until shut down.
pub async fn start(emu: Arc<Emulator>, addr: SocketAddr) -> std::io::Result<Running> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let gateway = Gateway::new(emu.clone());
    let (tx, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = rx.changed() => break,
                accepted = listener.accept() => {
                    let Ok((stream, remote)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let gw = gateway.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| gw.clone().handle(req, remote));
                        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            }
        }
    });
    Ok(Running {
        emulator: emu,
        addr,
        shutdown: tx,
        task,
    })
}
