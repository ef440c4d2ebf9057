//! The web worker: answers [`Request`]s with [`compute`](crate::compute), off the page's thread.

use yew_agent::worker::{HandlerId, Worker, WorkerScope};

use crate::proto::{Request, Response};

/// The worker's [`Session`](crate::compute::Session): searches under way between two messages.
pub struct PlanWorker(crate::compute::Session);

impl Worker for PlanWorker {
    type Message = ();
    type Input = Request;
    type Output = Response;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        PlanWorker(Default::default())
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        self.0.handle(msg, &crate::dom::now, &mut |r| scope.respond(id, r));
    }
}
