//! An echo server with a graceful shutdown: an accept loop, a task per connection, and
//! a broadcast that tells them all to stop.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

/// Serves `listener` until `stop` sends (or is dropped); then every connection stops too.
pub async fn serve(listener: TcpListener, stop: broadcast::Sender<()>) {
    let mut stopping = stop.subscribe();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { return };
                let stopping = stop.subscribe();
                tokio::spawn(echo(socket, stopping)); // spawn: connection
            }
            _ = stopping.recv() => return,
        }
    }
}

/// Sends back what it reads until the client hangs up or the server stops.
async fn echo(mut socket: TcpStream, mut stopping: broadcast::Receiver<()>) {
    let mut buffer = [0; 1024];
    loop {
        let read = tokio::select! {
            read = socket.read(&mut buffer) => read,
            _ = stopping.recv() => return,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) if socket.write_all(&buffer[..n]).await.is_err() => return,
            Ok(_) => {}
        }
    }
}
