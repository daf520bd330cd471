//! A loopback proxy in front of a MySQL/MariaDB server that counts what its clients ask: the
//! connections they open and the commands they send (each command packet, `COM_QUERY`,
//! `COM_STMT_PREPARE`, `COM_STMT_EXECUTE`, …, waits for its answer: one round trip). A count of
//! the client's own, so other users of the server do not disturb it, as they would the server's
//! global `Questions` counter.
//!
//! In the MySQL protocol every packet starts with a three-byte length and a sequence number,
//! which each command restarts at 0; the handshake's packets and a long packet's continuations
//! carry other numbers. `COM_QUIT` (sent on close, never answered) is not counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `COM_QUIT`: the client says goodbye and expects no answer.
const COM_QUIT: u8 = 0x01;

/// What the clients of a [`Proxy`] asked for since the last [`Proxy::take`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Connections opened (a handshake each).
    pub connections: u64,
    /// Commands sent, each answered: round trips after the handshakes.
    pub commands: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    commands: AtomicU64,
}

/// A counting proxy listening on a loopback port of its own.
pub(crate) struct Proxy {
    port: u16,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy to the server at `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen for the counting proxy: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("the counting proxy has no address: {e}"))?
            .port();
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(serve(listener, upstream, Arc::clone(&counters)));
        Ok(Self {
            port,
            counters,
            task,
        })
    }

    /// The port clients connect to instead of the server's.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// What the clients asked for since the last call, and starts counting afresh.
    pub(crate) fn take(&self) -> Counts {
        Counts {
            connections: self.counters.connections.swap(0, Ordering::SeqCst),
            commands: self.counters.commands.swap(0, Ordering::SeqCst),
        }
    }
}

async fn serve(listener: TcpListener, upstream: SocketAddr, counters: Arc<Counters>) {
    while let Ok((client, _)) = listener.accept().await {
        counters.connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(relay(client, upstream, Arc::clone(&counters)));
    }
}

/// Relays one connection both ways, counting the commands the client sends.
async fn relay(client: TcpStream, upstream: SocketAddr, counters: Arc<Counters>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let asking = async {
        let mut header = [0u8; 4];
        let mut body = Vec::new();
        while from_client.read_exact(&mut header).await.is_ok() {
            let length = usize::from(header[0])
                | (usize::from(header[1]) << 8)
                | (usize::from(header[2]) << 16);
            body.resize(length, 0);
            if from_client.read_exact(&mut body).await.is_err() {
                break;
            }
            if header[3] == 0 && body.first() != Some(&COM_QUIT) {
                counters.commands.fetch_add(1, Ordering::SeqCst);
            }
            if to_server.write_all(&header).await.is_err()
                || to_server.write_all(&body).await.is_err()
            {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let answering = async {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::join!(asking, answering);
}
