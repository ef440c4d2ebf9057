//! The camera's state, kept apart from the DOM so it is tested natively:
//! which worker session is current, the last frame's answer, and the frame
//! rate over the latest answers. The component (`components::camera_view`)
//! grabs the frames and talks to the camera's worker.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::proto::FrameOut;

/// Answers the frame rate is measured over.
pub const FPS_WINDOW: usize = 10;

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Phase {
    #[default]
    Off,
    /// Asked for the camera and the model's preparation.
    Starting,
    Running,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CameraState {
    pub phase: Phase,
    /// The current worker session (a `CameraStart` request id): answers of an older one are dropped.
    pub session: u64,
    /// The arena the camera's model runs in (bytes), once prepared.
    pub arena: Option<usize>,
    /// The last frame's answer and its size (frame pixels).
    pub last: Option<Rc<(FrameOut, (u32, u32))>>,
    /// Frames answered in this session.
    pub frames: u64,
    /// When the latest answers arrived (ms).
    times: VecDeque<f64>,
    /// Why the camera stopped or could not start.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CameraAction {
    /// A new session (camera opened, or the model or schedule changed).
    Start {
        session: u64,
    },
    Ready {
        session: u64,
        result: Result<usize, String>,
    },
    Frame {
        session: u64,
        size: (u32, u32),
        result: Result<FrameOut, String>,
        now: f64,
    },
    /// The camera could not be opened, or a frame could not be grabbed.
    Failed(String),
    Stop,
}

impl CameraState {
    pub fn apply(&mut self, a: CameraAction) {
        match a {
            CameraAction::Start { session } => {
                *self = CameraState { phase: Phase::Starting, session, ..Default::default() }
            }
            CameraAction::Ready { session, result } if session == self.session && self.phase != Phase::Off => {
                match result {
                    Ok(n) => {
                        self.phase = Phase::Running;
                        self.arena = Some(n);
                    }
                    Err(e) => self.fail(e),
                }
            }
            CameraAction::Frame { session, size, result, now }
                if session == self.session && self.phase == Phase::Running =>
            {
                match result {
                    Ok(f) => {
                        self.frames += 1;
                        self.last = Some(Rc::new((f, size)));
                        self.times.push_back(now);
                        if self.times.len() > FPS_WINDOW {
                            self.times.pop_front();
                        }
                    }
                    Err(e) => self.fail(e),
                }
            }
            CameraAction::Failed(e) => self.fail(e),
            CameraAction::Stop => {
                self.phase = Phase::Off;
                self.times.clear();
            }
            // An answer of an older session, or after a stop.
            CameraAction::Ready { .. } | CameraAction::Frame { .. } => {}
        }
    }

    fn fail(&mut self, e: String) {
        self.phase = Phase::Off;
        self.error = Some(e);
        self.times.clear();
    }

    /// Frames per second over the latest answers (`None` before two).
    pub fn fps(&self) -> Option<f64> {
        let (first, last) = (self.times.front()?, self.times.back()?);
        (self.times.len() >= 2 && last > first).then(|| (self.times.len() - 1) as f64 * 1000.0 / (last - first))
    }

    pub fn on(&self) -> bool {
        self.phase != Phase::Off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(session: u64, now: f64) -> CameraAction {
        CameraAction::Frame {
            session,
            size: (128, 96),
            result: Ok(FrameOut { detections: Some(vec![]), top: None, millis: 3.0 }),
            now,
        }
    }

    #[test]
    fn the_frame_rate_is_over_the_latest_answers_of_the_current_session() {
        let mut c = CameraState::default();
        c.apply(CameraAction::Start { session: 1 });
        assert_eq!(c.phase, Phase::Starting);
        // Frames before the model is ready, or of another session, do not count.
        c.apply(frame(1, 0.0));
        c.apply(CameraAction::Ready { session: 1, result: Ok(4096) });
        assert_eq!((c.phase.clone(), c.arena), (Phase::Running, Some(4096)));
        for k in 0..30 {
            c.apply(frame(1, 100.0 * k as f64)); // 10 fps
            c.apply(frame(7, 1.0)); // stale
        }
        assert_eq!(c.frames, 30);
        assert_eq!(c.fps(), Some(10.0));
        // 20 fps lately: the window follows.
        for k in 0..FPS_WINDOW {
            c.apply(frame(1, 3000.0 + 50.0 * k as f64));
        }
        assert_eq!(c.fps(), Some(20.0));
        // A new session starts from nothing.
        c.apply(CameraAction::Start { session: 2 });
        assert_eq!((c.frames, c.fps(), c.last.is_none()), (0, None, true));
    }

    #[test]
    fn an_error_stops_the_camera_and_says_why() {
        let mut c = CameraState::default();
        c.apply(CameraAction::Start { session: 3 });
        c.apply(CameraAction::Ready { session: 3, result: Err("not run: too big".into()) });
        assert_eq!((c.on(), c.error.as_deref()), (false, Some("not run: too big")));
        c.apply(CameraAction::Start { session: 4 });
        assert_eq!(c.error, None);
        c.apply(CameraAction::Ready { session: 4, result: Ok(1) });
        c.apply(CameraAction::Frame { session: 4, size: (1, 1), result: Err("bad frame".into()), now: 0.0 });
        assert_eq!((c.on(), c.error.as_deref()), (false, Some("bad frame")));
        c.apply(CameraAction::Failed("NotAllowedError".into()));
        assert_eq!(c.error.as_deref(), Some("NotAllowedError"));
        c.apply(CameraAction::Stop);
        assert!(!c.on());
    }
}
