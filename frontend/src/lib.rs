//! The WASM entry point that hydrates the server-rendered dashboard in the browser.

use wasm_bindgen::prelude::wasm_bindgen;

/// Sends Rust panics to the browser console and hydrates the page. The loader script that
/// `HydrationScripts` renders into the page calls it once the module has loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
