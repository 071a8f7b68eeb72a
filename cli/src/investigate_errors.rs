//! Messages for the failures of `dbagent investigate` that a DBA fixes on the server: a missing
//! or unloaded `pg_stat_statements`, and a HypoPG that is not installed or may not be created.
//!
//! The engine's error names the extension, but not which of those cases applies, so a few
//! catalog queries find out before the message names the fix.

use runner::investigate::Error;
use tokio_postgres::Client;

/// The state of one extension on the server and in the database.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionState {
    pub database: String,
    pub user: String,
    /// Whether the server has the extension's files (`pg_available_extensions`).
    pub available: bool,
    /// Whether `CREATE EXTENSION` ran in this database.
    pub created: bool,
    /// Whether `shared_preload_libraries` names the library, or `None` when the role may not
    /// read that setting.
    pub preloaded: Option<bool>,
}

/// Turns an engine failure into an error whose message names the fix. Other failures pass
/// through unchanged.
pub async fn explain(client: &Client, error: Error) -> anyhow::Error {
    let Error::MissingExtension {
        extension, package, ..
    } = &error
    else {
        return error.into();
    };
    let state = match extension_state(client, extension).await {
        Ok(state) => state,
        Err(query_error) => {
            tracing::debug!(%query_error, "failed to read the extension's state");
            return error.into();
        }
    };
    match *extension {
        "pg_stat_statements" => anyhow::anyhow!(pg_stat_statements_fix(&state)),
        "hypopg" => anyhow::anyhow!(hypopg_fix(&state, package)),
        _ => error.into(),
    }
}

async fn extension_state(
    client: &Client,
    name: &str,
) -> Result<ExtensionState, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT current_database()::text, current_user::text,
                    EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = $1),
                    EXISTS (SELECT 1 FROM pg_extension WHERE extname = $1)",
            &[&name],
        )
        .await?;
    // The setting is hidden from roles without pg_read_all_settings, such as an application
    // role on a managed server, so an error here only means "unknown".
    let preloaded = client
        .query_one("SELECT current_setting('shared_preload_libraries')", &[])
        .await
        .ok()
        .map(|row| names_library(row.get(0), name));
    Ok(ExtensionState {
        database: row.get(0),
        user: row.get(1),
        available: row.get(2),
        created: row.get(3),
        preloaded,
    })
}

/// Tells whether a `shared_preload_libraries` value, a comma-separated list whose entries may
/// be quoted or given as paths, names `library`.
fn names_library(setting: &str, library: &str) -> bool {
    setting.split(',').any(|entry| {
        let entry = entry.trim().trim_matches('"');
        let file = entry.rsplit('/').next().unwrap_or(entry);
        file.trim_end_matches(".so") == library
    })
}

/// Names the fix for a `pg_stat_statements` the engine could not read.
pub fn pg_stat_statements_fix(state: &ExtensionState) -> String {
    let database = &state.database;
    let preload = "add pg_stat_statements to shared_preload_libraries (a server parameter on \
                   managed services such as Azure) and restart the server";
    let create = format!("run CREATE EXTENSION pg_stat_statements in database {database}");
    if !state.available {
        return format!(
            "pg_stat_statements is not installed on the server; install the \
             postgresql-contrib package there, {preload}, then {create}"
        );
    }
    match (state.created, state.preloaded) {
        (true, _) => format!(
            "pg_stat_statements is created in database {database} but not loaded by the \
             server; {preload}, then run this command again"
        ),
        (false, Some(true)) => {
            format!("pg_stat_statements is loaded but not created in database {database}; {create}")
        }
        (false, Some(false)) => format!(
            "pg_stat_statements is neither loaded nor created in database {database}; \
             {preload}, then {create}"
        ),
        (false, None) => format!(
            "pg_stat_statements is not created in database {database}; {create}. The server \
             also has to load it: if it is not in shared_preload_libraries, {preload}"
        ),
    }
}

/// Names the fix for a HypoPG the engine could not create.
pub fn hypopg_fix(state: &ExtensionState, package: &str) -> String {
    let ExtensionState { database, user, .. } = state;
    if !state.available {
        return format!(
            "HypoPG is not installed on the server; install the {package} package there (on \
             Azure, add hypopg to the azure.extensions server parameter), then run this \
             command again, which creates the extension in database {database}"
        );
    }
    format!(
        "HypoPG is installed, but user {user} may not create the extension in database \
         {database}; have a superuser run CREATE EXTENSION hypopg there (on Azure, a member \
         of azure_pg_admin, after adding hypopg to the azure.extensions server parameter), \
         then run this command again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(available: bool, created: bool, preloaded: Option<bool>) -> ExtensionState {
        ExtensionState {
            database: "shop".to_string(),
            user: "app".to_string(),
            available,
            created,
            preloaded,
        }
    }

    #[test]
    fn created_but_not_loaded_names_preload() {
        let fix = pg_stat_statements_fix(&state(true, true, Some(false)));
        assert!(
            fix.contains("created in database shop but not loaded"),
            "{fix}"
        );
        assert!(fix.contains("add pg_stat_statements to shared_preload_libraries"));
        assert!(!fix.contains("CREATE EXTENSION"), "{fix}");
    }

    #[test]
    fn loaded_but_not_created_names_create() {
        let fix = pg_stat_statements_fix(&state(true, false, Some(true)));
        assert!(fix.contains("run CREATE EXTENSION pg_stat_statements in database shop"));
        assert!(!fix.contains("shared_preload_libraries"), "{fix}");
    }

    #[test]
    fn unknown_preload_names_both_fixes() {
        let fix = pg_stat_statements_fix(&state(true, false, None));
        assert!(fix.contains("CREATE EXTENSION pg_stat_statements"), "{fix}");
        assert!(fix.contains("shared_preload_libraries"), "{fix}");
    }

    #[test]
    fn missing_contrib_names_package() {
        let fix = pg_stat_statements_fix(&state(false, false, Some(false)));
        assert!(
            fix.contains("install the postgresql-contrib package"),
            "{fix}"
        );
    }

    #[test]
    fn hypopg_fix_depends_on_files() {
        let missing = hypopg_fix(&state(false, false, None), "postgresql-15-hypopg");
        assert!(
            missing.contains("install the postgresql-15-hypopg package"),
            "{missing}"
        );

        let denied = hypopg_fix(&state(true, false, None), "postgresql-15-hypopg");
        assert!(denied.contains("user app may not create"), "{denied}");
        assert!(denied.contains("CREATE EXTENSION hypopg"), "{denied}");
    }

    #[test]
    fn preload_list_entries_are_matched_whole() {
        assert!(names_library("pg_stat_statements", "pg_stat_statements"));
        assert!(names_library(
            "auto_explain, \"pg_stat_statements\"",
            "pg_stat_statements"
        ));
        assert!(names_library(
            "$libdir/pg_stat_statements.so",
            "pg_stat_statements"
        ));
        assert!(!names_library(
            "pg_stat_statements_extra",
            "pg_stat_statements"
        ));
        assert!(!names_library("", "pg_stat_statements"));
    }
}
