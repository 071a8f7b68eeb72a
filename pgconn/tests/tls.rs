//! Each `sslmode` against a real server with a self-signed certificate for another host name.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use cluster::{ClusterKind, TempCluster};

fn openssl(args: &[&str], dir: &Path) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Creates a certificate authority (`ca.crt` in `dir`) and a server certificate signed by it
/// (`server.crt`, `server.key` in the data directory) for `db.example.invalid` only, a host
/// name other than the 127.0.0.1 the tests connect to.
fn certificates(dir: &Path, data_dir: &Path) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=DBAgent test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=db.example.invalid",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:db.example.invalid\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        dir,
    );

    let owner = std::fs::metadata(data_dir).unwrap();
    for file in ["server.key", "server.crt"] {
        let path = data_dir.join(file);
        std::fs::copy(dir.join(file), &path).unwrap();
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Starts a cluster with TLS on, and returns it with the directory holding `ca.crt`.
async fn tls_cluster() -> (TempCluster, tempfile::TempDir) {
    let cluster = TempCluster::start(ClusterKind::Control).unwrap();
    let authority = tempfile::tempdir().unwrap();
    certificates(authority.path(), &cluster.data_dir());
    let client = pgconn::connect(&pgconn::parse(&cluster.connection_string("postgres")).unwrap())
        .await
        .unwrap();
    client
        .batch_execute("ALTER SYSTEM SET ssl = on")
        .await
        .unwrap();
    client
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    // The postmaster applies the reload asynchronously; new connections see it shortly after.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    (cluster, authority)
}

async fn uses_tls(connection_string: &str) -> Result<bool, pgconn::Error> {
    let client = pgconn::connect(&pgconn::parse(connection_string)?).await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_sslmode_behaves_as_in_libpq() {
    let (cluster, authority) = tls_cluster().await;
    let base = cluster.connection_string("postgres");
    let root = authority.path().join("ca.crt");
    let root = root.display();

    assert!(!uses_tls(&format!("{base}?sslmode=disable")).await.unwrap());
    assert!(uses_tls(&format!("{base}?sslmode=prefer")).await.unwrap());
    assert!(uses_tls(&format!("{base}?sslmode=require")).await.unwrap());
    assert!(
        uses_tls(&format!("{base}?sslmode=verify-ca&sslrootcert={root}"))
            .await
            .unwrap()
    );

    let wrong_host = uses_tls(&format!("{base}?sslmode=verify-full&sslrootcert={root}")).await;
    let error = wrong_host.expect_err("the certificate names another host");
    assert!(
        format!("{error:?}").contains("NotValidForName"),
        "{error:?}"
    );

    let untrusted = uses_tls(&format!("{base}?sslmode=verify-full")).await;
    let error = untrusted.expect_err("a self-signed certificate is not trusted by default");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_root_file_is_named() {
    let (cluster, _authority) = tls_cluster().await;
    let url = format!(
        "{}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        cluster.connection_string("postgres")
    );

    let error = uses_tls(&url).await.unwrap_err();

    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
}
