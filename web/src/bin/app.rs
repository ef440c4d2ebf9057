//! The playground page's entry point.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    let root = gloo::utils::document().get_element_by_id("app");
    match root {
        Some(el) => yew::Renderer::<patchwise_web::app::App>::with_root(el).render(),
        None => yew::Renderer::<patchwise_web::app::App>::new().render(),
    };
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the patchwise playground runs in a browser: build and serve it with tools/serve");
}
