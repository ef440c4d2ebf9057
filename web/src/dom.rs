//! Small browser helpers: files, blob URLs, downloads, the URL hash, the clock.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

/// `performance.now()` in the page or a worker (ms), `Date.now()` as a fallback.
pub fn now() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// The bytes of a picked or dropped file.
pub async fn read_file(file: web_sys::File) -> Result<Vec<u8>, String> {
    let buf =
        JsFuture::from(file.array_buffer()).await.map_err(|_| format!("{}: cannot read the file", file.name()))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Reads `file` in the background; its name and bytes go to `on_file`, a failure to `on_error`.
pub fn emit_file(file: web_sys::File, on_file: yew::Callback<(String, Vec<u8>)>, on_error: yew::Callback<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        let name = file.name();
        match read_file(file).await {
            Ok(bytes) => on_file.emit((name, bytes)),
            Err(e) => on_error.emit(e),
        }
    });
}

fn blob(bytes: &[u8], mime: &str) -> Option<Blob> {
    let parts = Array::new();
    parts.push(&Uint8Array::from(bytes).buffer());
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    Blob::new_with_u8_array_sequence_and_options(&parts, &opts).ok()
}

/// An object URL for bytes (for `<image href>`).
pub fn blob_url(bytes: &[u8], mime: &str) -> String {
    blob(bytes, mime).and_then(|b| Url::create_object_url_with_blob(&b).ok()).unwrap_or_default()
}

pub fn revoke(url: &str) {
    if url.starts_with("blob:") {
        let _ = Url::revoke_object_url(url);
    }
}

/// Offers `text` as a file download.
pub fn download(name: &str, text: &str, mime: &str) {
    download_bytes(name, text.as_bytes(), mime)
}

/// Offers `bytes` as a file download.
pub fn download_bytes(name: &str, bytes: &[u8], mime: &str) {
    let Some(url) = blob(bytes, mime).and_then(|b| Url::create_object_url_with_blob(&b).ok()) else {
        return;
    };
    let doc = gloo::utils::document();
    if let Ok(a) = doc.create_element("a").map(|e| e.unchecked_into::<HtmlAnchorElement>()) {
        a.set_href(&url);
        a.set_download(name);
        let _ = doc.body().map(|b| b.append_child(&a));
        a.click();
        a.remove();
    }
    let _ = Url::revoke_object_url(&url);
}

/// The page's URL hash (or, without one, its query), without `#`/`?`.
pub fn url_settings() -> String {
    let loc = gloo::utils::window().location();
    let hash = loc.hash().unwrap_or_default();
    if hash.len() > 1 {
        return hash;
    }
    loc.search().unwrap_or_default()
}

/// Replaces the URL hash without adding a history entry.
pub fn replace_hash(hash: &str) {
    let win = gloo::utils::window();
    let loc = win.location();
    if loc.hash().unwrap_or_default().trim_start_matches('#') == hash {
        return;
    }
    let path = loc.pathname().unwrap_or_default();
    let url = format!("{path}#{hash}");
    if let Ok(h) = win.history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// The page's full URL.
pub fn href() -> String {
    gloo::utils::window().location().href().unwrap_or_default()
}
