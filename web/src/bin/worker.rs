//! The web worker's entry point.

#[cfg(target_arch = "wasm32")]
fn main() {
    use yew_agent::Registrable;
    console_error_panic_hook::set_once();
    patchwise_web::agent::PlanWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the patchwise worker runs in a browser: build it for wasm32 (tools/serve)");
}
