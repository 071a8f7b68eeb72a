//! The Leptos dashboard, rendered on the server and served on the same origin as the API. The
//! browser therefore sends the session cookie to `/api/...` without any cross-origin setup.

use std::path::{Path, PathBuf};

use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use tower_http::compression::CompressionLayer;

/// Base name of the JS, WASM and CSS files under `pkg/`. It must match `output-name` in the
/// workspace's `[[workspace.metadata.leptos]]`.
pub const OUTPUT_NAME: &str = "dbagent";

/// Returns the default directory of the dashboard's files: `site/` beside the build profile's
/// directory, such as `target/site` for `target/release/dbagent`. cargo-leptos writes them there.
pub fn default_site_dir(executable: &Path) -> Option<PathBuf> {
    Some(executable.parent()?.parent()?.join("site"))
}

/// Returns whether `site_dir` contains the built WASM. Without it, pages render but never
/// update or respond to clicks.
pub fn site_is_built(site_dir: &Path) -> bool {
    site_dir
        .join("pkg")
        .join(format!("{OUTPUT_NAME}.wasm"))
        .is_file()
}

/// Builds the router that renders every dashboard page and serves the files of `site_dir` for
/// any other path.
pub fn router(site_dir: &Path) -> Router {
    let options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_dir.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(app::App);
    let shell_options = options.clone();
    Router::new()
        .leptos_routes(&options, routes, move || app::shell(shell_options.clone()))
        .fallback(file_and_error_handler(app::shell))
        .layer(CompressionLayer::new())
        .with_state(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_is_found_beside_the_profile_directory() {
        let site = default_site_dir(Path::new("/cache/target/release/dbagent"));
        assert_eq!(site, Some(PathBuf::from("/cache/target/site")));
    }
}
