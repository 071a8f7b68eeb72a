//! The TLS options of a connection string that `tokio-postgres` does not parse itself.

use std::path::PathBuf;

use tokio_postgres::config::SslMode;

use crate::Error;

/// The `sslmode` values DBAgent supports. libpq's `allow` is left out, because `tokio-postgres`
/// cannot try a plain connection first.
const SSL_MODES: [&str; 5] = ["disable", "prefer", "require", "verify-ca", "verify-full"];

/// A parsed connection string.
#[derive(Debug, Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub verification: Verification,
    /// PEM file with the roots to trust, from `sslrootcert`.
    pub root_certificate: Option<PathBuf>,
}

/// The certificate check that `sslmode` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// `disable`, `prefer` and `require`: encryption without a check, as in libpq.
    None,
    /// `verify-ca`: the chain must lead to a trusted root.
    Chain,
    /// `verify-full`: the chain, and the certificate must name the host.
    ChainAndHost,
}

/// Parses `connection_string`, a URL (`postgres://...?sslmode=...`) or key/value pairs
/// (`host=... sslmode=...`).
pub fn parse(connection_string: &str) -> Result<Target, Error> {
    let (rest, options) = split_options(connection_string);
    for (key, value) in &options {
        if key == "sslmode" && !SSL_MODES.contains(&value.as_str()) {
            return Err(Error::InvalidConnectionString {
                reason: format!(
                    "sslmode={value} is not supported; use one of {}",
                    SSL_MODES.join(", ")
                ),
            });
        }
    }
    let mut config: tokio_postgres::Config = rest.parse().map_err(
        |error: tokio_postgres::Error| Error::InvalidConnectionString {
            reason: error.to_string(),
        },
    )?;
    let mut verification = Verification::None;
    let mut root_certificate = None;
    for (key, value) in options {
        match key.as_str() {
            "sslrootcert" => root_certificate = Some(PathBuf::from(value)),
            "sslmode" if value == "verify-ca" => verification = Verification::Chain,
            "sslmode" if value == "verify-full" => verification = Verification::ChainAndHost,
            _ => {}
        }
    }
    if verification != Verification::None {
        config.ssl_mode(SslMode::Require);
    }
    Ok(Target {
        config,
        verification,
        root_certificate,
    })
}

/// Returns the connection string without the options `tokio-postgres` rejects, and those
/// options as key/value pairs.
fn split_options(connection_string: &str) -> (String, Vec<(String, String)>) {
    let is_rejected = |key: &str, value: &str| {
        let understood = ["disable", "prefer", "require"];
        key == "sslrootcert" || (key == "sslmode" && !understood.contains(&value))
    };
    let mut removed = Vec::new();
    if let Some((base, query)) = connection_string.split_once('?')
        && connection_string.contains("://")
    {
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            if is_rejected(key, &value) {
                removed.push((key.to_string(), value));
            } else {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, removed);
    }
    let mut kept = Vec::new();
    for token in connection_string.split_whitespace() {
        let (key, value) = token.split_once('=').unwrap_or((token, ""));
        let value = value.trim_matches('\'').to_string();
        if is_rejected(key, &value) {
            removed.push((key.to_string(), value));
        } else {
            kept.push(token);
        }
    }
    (kept.join(" "), removed)
}

/// Decodes `%XX` escapes, as URL query values may carry them for `/` in a path.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = if bytes[index] == b'%' {
            bytes
                .get(index + 1..index + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        } else {
            None
        };
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_verify_full_is_split_off() {
        let target = parse("postgres://u:p@db.example.com:5432/shop?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x").unwrap();
        assert_eq!(target.verification, Verification::ChainAndHost);
        assert_eq!(target.root_certificate, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(target.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(target.config.get_application_name(), Some("x"));
    }

    #[test]
    fn key_value_verify_ca_is_split_off() {
        let target =
            parse("host=db.example.com dbname=shop sslmode=verify-ca sslrootcert=/ca.pem").unwrap();
        assert_eq!(target.verification, Verification::Chain);
        assert_eq!(target.root_certificate, Some(PathBuf::from("/ca.pem")));
        assert_eq!(target.config.get_dbname(), Some("shop"));
    }

    #[test]
    fn require_stays_with_tokio_postgres() {
        let target = parse("postgres://u@127.0.0.1/shop?sslmode=require").unwrap();
        assert_eq!(target.verification, Verification::None);
        assert_eq!(target.config.get_ssl_mode(), SslMode::Require);
    }

    #[test]
    fn default_is_prefer() {
        let target = parse("postgres://u@127.0.0.1/shop").unwrap();
        assert_eq!(target.config.get_ssl_mode(), SslMode::Prefer);
    }

    #[test]
    fn unknown_sslmode_is_rejected() {
        let error = parse("postgres://u@127.0.0.1/shop?sslmode=sometimes").unwrap_err();
        assert!(error.to_string().contains("sslmode"), "{error}");
    }
}
