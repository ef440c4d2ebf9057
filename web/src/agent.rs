//! The web worker: answers [`Request`]s with [`compute`](crate::compute), off the page's thread.

use yew_agent::worker::{HandlerId, Worker, WorkerScope};

use crate::proto::{Request, Response};

pub struct PlanWorker;

impl Worker for PlanWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        PlanWorker
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        let out = crate::compute::handle_observed(msg, &crate::dom::now, &mut |p| scope.respond(id, p));
        scope.respond(id, out);
    }
}
