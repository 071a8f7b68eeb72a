use std::net::{Ipv4Addr, TcpListener};

/// Returns a loopback TCP port that nothing listens on right now.
///
/// The port is released before PostgreSQL binds it, so another process can take it in between.
/// Starting the cluster then fails, and the caller picks a new port.
pub(crate) fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Tells whether a loopback TCP port can be bound.
pub(crate) fn is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}
