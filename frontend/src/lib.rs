//! The WASM module that takes over the server-rendered dashboard in the browser.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the script that cargo-leptos generates once the module has loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
