//! The operating-system user that runs the server processes.
//!
//! `initdb` and `postgres` refuse to run as root. When DBAgent itself runs as root, as it does in
//! containers and CI, the server programs run as the unprivileged `postgres` user that the Debian
//! package creates, and that user owns the cluster's data directory.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;

use nix::unistd::{Gid, Uid, User};

use crate::{Error, Result};

const SERVER_USER: &str = "postgres";

/// The identity server programs run under; `None` means the current user.
#[derive(Debug, Clone)]
pub(crate) struct ServerUser {
    switch_to: Option<(Uid, Gid, String)>,
}

impl ServerUser {
    pub(crate) fn detect() -> Result<ServerUser> {
        if !Uid::effective().is_root() {
            return Ok(ServerUser { switch_to: None });
        }
        let user = User::from_name(SERVER_USER).ok().flatten().ok_or_else(|| {
            Error::MissingServerUser {
                user: SERVER_USER.to_string(),
            }
        })?;
        Ok(ServerUser {
            switch_to: Some((user.uid, user.gid, user.name)),
        })
    }

    /// Makes a command run as the server user.
    pub(crate) fn apply(&self, command: &mut std::process::Command) {
        if let Some((uid, gid, _)) = &self.switch_to {
            command.uid(uid.as_raw()).gid(gid.as_raw());
            // Keep the server from inheriting root's HOME, which it cannot read.
            command.env("HOME", "/tmp");
        }
    }

    /// Gives the server user a directory, and checks that it can reach it.
    pub(crate) fn own(&self, dir: &Path) -> Result<()> {
        let Some((uid, gid, name)) = &self.switch_to else {
            return Ok(());
        };
        std::os::unix::fs::chown(dir, Some(uid.as_raw()), Some(gid.as_raw())).map_err(
            Error::io(format!("failed to give {} to user {name}", dir.display())),
        )?;
        for ancestor in dir.ancestors().skip(1) {
            let Ok(metadata) = std::fs::metadata(ancestor) else {
                continue;
            };
            let others_may_enter = metadata.permissions().mode() & 0o001 != 0;
            if !others_may_enter && metadata.uid() != uid.as_raw() {
                return Err(Error::UnreachableDirectory {
                    user: name.clone(),
                    dir: ancestor.to_path_buf(),
                });
            }
        }
        Ok(())
    }
}
