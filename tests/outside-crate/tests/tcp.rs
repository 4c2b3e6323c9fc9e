//! The echo server under the leak detector: stopped, it leaves nothing behind; left
//! running, the test fails and names the server task and the connection it serves.

use echo_server::serve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

/// Starts the server, echoes one line through it, and returns the connected client.
async fn start_and_echo(stop: &broadcast::Sender<()>) -> (TcpStream, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, stop.clone())); // spawn: server
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"hello").await.unwrap();
    let mut echoed = [0; 5];
    client.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"hello");
    (client, server)
}

// ANCHOR: clean
#[tokio_leakcheck::test]
async fn a_stopped_server_leaves_nothing_behind() {
    let (stop, _) = broadcast::channel(1);
    let (_client, server) = start_and_echo(&stop).await;
    stop.send(()).unwrap();
    server.await.unwrap();
}
// ANCHOR_END: clean

/// Forgets to stop the server, and leaves a client waiting for a reply it never gets
/// (run by check.sh with `--ignored`, which expects it to fail and its report to name
/// the three tasks).
// ANCHOR: leak
#[tokio_leakcheck::test]
#[ignore = "leaks on purpose: check.sh runs it and expects the leak report"]
async fn a_server_left_running_is_reported() {
    let (stop, _) = broadcast::channel(1);
    let (mut client, _server) = start_and_echo(&stop).await;
    tokio::spawn(async move { client.read(&mut [0; 1]).await }); // spawn: client
}
// ANCHOR_END: leak
