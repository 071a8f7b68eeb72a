//! Finding the PostgreSQL server programs and extensions installed on this machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result};

/// Parent folder of each major version's server programs on Debian and Ubuntu.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The server programs of one PostgreSQL installation.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    pub bin_dir: PathBuf,
    pub share_dir: PathBuf,
    /// Major version, such as 15.
    pub major: u32,
}

impl PgBinaries {
    /// Finds the installation from `PG_BINDIR`, or else the newest one under
    /// `/usr/lib/postgresql`, and checks that it is version 14 or newer.
    pub fn locate() -> Result<PgBinaries> {
        let bin_dir = match std::env::var_os("PG_BINDIR") {
            Some(dir) => PathBuf::from(dir),
            None => newest_debian_bin_dir().ok_or_else(|| missing("initdb", DEBIAN_ROOT))?,
        };
        PgBinaries::in_dir(bin_dir)
    }

    /// Uses the installation whose server programs are in `bin_dir`.
    pub fn in_dir(bin_dir: PathBuf) -> Result<PgBinaries> {
        for program in ["initdb", "pg_ctl", "postgres"] {
            if !bin_dir.join(program).is_file() {
                return Err(missing(program, &bin_dir.display().to_string()));
            }
        }

        let major = server_major_version(&bin_dir)?;
        let share_dir = share_dir(&bin_dir, major);
        Ok(PgBinaries {
            bin_dir,
            share_dir,
            major,
        })
    }

    pub fn program(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Fails with the Debian package to install when an extension's control file is missing.
    pub fn require_extension(&self, extension: &str, package: &str) -> Result<()> {
        let control = self
            .share_dir
            .join("extension")
            .join(format!("{extension}.control"));
        if control.is_file() {
            return Ok(());
        }
        Err(Error::MissingExtension {
            extension: extension.to_string(),
            control,
            package: package.replace("{major}", &self.major.to_string()),
        })
    }
}

fn missing(program: &str, searched: &str) -> Error {
    Error::MissingBinary {
        program: program.to_string(),
        searched: searched.to_string(),
        package: "postgresql".to_string(),
    }
}

fn newest_debian_bin_dir() -> Option<PathBuf> {
    let entries = std::fs::read_dir(DEBIAN_ROOT).ok()?;
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

fn server_major_version(bin_dir: &Path) -> Result<u32> {
    let postgres = bin_dir.join("postgres");
    let output = Command::new(&postgres)
        .arg("--version")
        .output()
        .map_err(Error::io(format!("failed to run {}", postgres.display())))?;
    // Prints, for example, "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let major = text
        .split_whitespace()
        .nth(2)
        .and_then(|version| version.split('.').next())
        .and_then(|major| major.parse::<u32>().ok());
    match major {
        Some(major) if major >= 14 => Ok(major),
        _ => Err(Error::UnsupportedVersion { found: text }),
    }
}

fn share_dir(bin_dir: &Path, major: u32) -> PathBuf {
    let from_pg_config = Command::new(bin_dir.join("pg_config"))
        .arg("--sharedir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    from_pg_config.unwrap_or_else(|| PathBuf::from(format!("/usr/share/postgresql/{major}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_server_names_the_package() {
        let empty = tempfile::tempdir().unwrap();

        let error = PgBinaries::in_dir(empty.path().to_path_buf()).unwrap_err();

        assert!(matches!(error, Error::MissingBinary { .. }), "{error}");
        assert!(
            error.to_string().contains("apt-get install -y postgresql"),
            "{error}"
        );
    }

    #[test]
    fn missing_extension_names_the_package() {
        let binaries = PgBinaries::locate().unwrap();

        let error = binaries
            .require_extension("no_such_extension", "postgresql-{major}-no-such")
            .unwrap_err();

        let package = format!("postgresql-{}-no-such", binaries.major);
        assert!(error.to_string().contains(&package), "{error}");
    }

    #[test]
    fn installed_extensions_pass() {
        let binaries = PgBinaries::locate().unwrap();
        assert!(
            binaries
                .require_extension("pg_stat_statements", "postgresql-contrib")
                .is_ok()
        );
        assert!(
            binaries
                .require_extension("hypopg", "postgresql-{major}-hypopg")
                .is_ok()
        );
    }
}
