use std::time::Duration;

use server::{Config, TOKEN_FILE};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use crate::support::database_url;

/// Sends one HTTP/1.1 request and returns the raw response.
async fn http_get(address: std::net::SocketAddr, path: &str, token: Option<&str>) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

async fn wait_until_listening(address: std::net::SocketAddr) {
    for _ in 0..100 {
        if TcpStream::connect(address).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the API did not start listening on {address}");
}

#[tokio::test]
async fn serve_responds_and_stops() {
    let state_dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(database_url("serve_responds_and_stops").await);
    config.state_dir = state_dir.path().join("state");
    // Port 0 would hide the chosen port, so take a free one and release it.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    config.listen = probe.local_addr().unwrap();
    drop(probe);
    let address = config.listen;

    let shutdown = CancellationToken::new();
    let server = tokio::spawn(server::serve(config, shutdown.clone()));
    wait_until_listening(address).await;

    let health = http_get(address, "/api/health", None).await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let denied = http_get(address, "/api/servers", None).await;
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    let token = std::fs::read_to_string(state_dir.path().join("state").join(TOKEN_FILE)).unwrap();
    let servers = http_get(address, "/api/servers", Some(token.trim())).await;
    assert!(servers.starts_with("HTTP/1.1 200"), "{servers}");

    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(5), server).await;
    let result = stopped.expect("serve did not stop within 5 s").unwrap();
    assert!(result.is_ok(), "{result:?}");
}
