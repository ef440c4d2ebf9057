//! The "watch it run" view's state, kept apart from the DOM so it is tested
//! natively: the timelines the worker measured for the current settings, the
//! step shown, and playback. A step is one node of the interpreter's run (in
//! the patch stage, one node in one patch); the layer-by-layer run beside it
//! is shown at the same step number, held at its end once it is shorter.

use std::rc::Rc;

use crate::proto::{Mode, Sched, WatchOut};

/// Steps per second, slowest first.
pub const SPEEDS: [f64; 5] = [1.0, 3.0, 10.0, 30.0, 100.0];

/// What a timeline is of: model, schedule, input mode, image.
pub type Key = (u64, Sched, Mode, u64);

#[derive(Clone, Debug, PartialEq)]
pub struct WatchState {
    pub key: Option<Key>,
    /// The request under way.
    pub pending: Option<u64>,
    pub out: Option<Rc<WatchOut>>,
    pub error: Option<String>,
    /// The step shown: 0 is before the first node, `steps()` after the last.
    pub step: usize,
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
}

impl Default for WatchState {
    fn default() -> Self {
        WatchState { key: None, pending: None, out: None, error: None, step: 0, playing: false, speed: 2 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum WatchAction {
    /// Request `id` measures the run for `key` (the settings changed).
    Request {
        id: u64,
        key: Key,
    },
    Loaded {
        id: u64,
        result: Result<WatchOut, String>,
    },
    Play,
    Pause,
    /// One step back (−1) or forward (+1).
    Step(isize),
    Seek(usize),
    /// A tick of playback.
    Tick,
    SetSpeed(usize),
}

impl WatchState {
    /// Steps of the scheduled run.
    pub fn steps(&self) -> usize {
        self.out.as_ref().map_or(0, |o| o.scheduled.steps.len())
    }

    pub fn apply(&mut self, a: WatchAction) {
        match a {
            WatchAction::Request { id, key } => {
                *self = WatchState { key: Some(key), pending: Some(id), speed: self.speed, ..Default::default() };
            }
            WatchAction::Loaded { id, result } if self.pending == Some(id) => {
                self.pending = None;
                match result {
                    Ok(o) => self.out = Some(Rc::new(o)),
                    Err(e) => self.error = Some(e),
                }
            }
            WatchAction::Loaded { .. } => {}
            WatchAction::Play => {
                if self.steps() > 0 {
                    if self.step >= self.steps() {
                        self.step = 0; // played to the end: play again
                    }
                    self.playing = true;
                }
            }
            WatchAction::Pause => self.playing = false,
            WatchAction::Step(d) => {
                self.playing = false;
                self.step = self.step.saturating_add_signed(d).min(self.steps());
            }
            WatchAction::Seek(k) => {
                self.playing = false;
                self.step = k.min(self.steps());
            }
            WatchAction::Tick => {
                if self.playing {
                    self.step = (self.step + 1).min(self.steps());
                    self.playing = self.step < self.steps();
                }
            }
            WatchAction::SetSpeed(i) => self.speed = i.min(SPEEDS.len() - 1),
        }
    }

    /// The timeline step done at step `step` of a run of `len` steps (`None` before the first).
    pub fn done(step: usize, len: usize) -> Option<usize> {
        step.checked_sub(1).map(|k| k.min(len.saturating_sub(1)))
    }

    pub fn steps_per_second(&self) -> f64 {
        SPEEDS[self.speed.min(SPEEDS.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute;
    use crate::{DEFAULT_IMAGE, DEFAULT_MODEL};

    fn loaded(schedule: Sched) -> WatchState {
        let mut w = WatchState::default();
        let key = (1, schedule, Mode::InArena, 1);
        w.apply(WatchAction::Request { id: 5, key });
        let model = crate::proto::Source::Tflite(DEFAULT_MODEL.to_vec());
        let result = compute::watch(&model, DEFAULT_IMAGE, schedule, Mode::InArena);
        w.apply(WatchAction::Loaded { id: 4, result: Err("an older request".into()) });
        assert!(w.out.is_none() && w.error.is_none());
        w.apply(WatchAction::Loaded { id: 5, result });
        w
    }

    #[test]
    fn playing_to_the_end_reaches_the_planned_arena() {
        for schedule in [Sched::patched(15, (2, 2)), Sched::LAYER_BY_LAYER] {
            let mut w = loaded(schedule);
            let out = w.out.clone().unwrap();
            let n = w.steps();
            assert_eq!(n, out.scheduled.steps.len());
            w.apply(WatchAction::Play);
            let mut ticks = 0;
            while w.playing {
                w.apply(WatchAction::Tick);
                ticks += 1;
            }
            assert_eq!((w.step, ticks), (n, n));
            let last = &out.scheduled.steps[WatchState::done(w.step, n).unwrap()];
            let g = patchwise_core::loader::load(DEFAULT_MODEL).unwrap();
            let r = patchwise_core::plan::report(&g, schedule, Mode::InArena).unwrap();
            let planned = if schedule.split.is_some() { r.patch_peak_bytes } else { r.layer_peak_bytes };
            assert_eq!(last.hwm, planned);
            assert_eq!(out.layers.measured_bytes(), r.layer_peak_bytes);
            // Played to the end, Play starts over.
            w.apply(WatchAction::Play);
            assert_eq!((w.step, w.playing), (0, true));
        }
    }

    #[test]
    fn stepping_stays_within_the_run_and_pauses_it() {
        let mut w = loaded(Sched::patched(15, (1, 2)));
        w.apply(WatchAction::Step(-1));
        assert_eq!(w.step, 0);
        w.apply(WatchAction::Play);
        w.apply(WatchAction::Tick);
        w.apply(WatchAction::Step(1));
        assert_eq!((w.step, w.playing), (2, false));
        w.apply(WatchAction::Seek(usize::MAX));
        assert_eq!(w.step, w.steps());
        // The shorter layer-by-layer run is held at its end.
        let layers = w.out.as_ref().unwrap().layers.steps.len();
        assert!(layers < w.steps());
        assert_eq!(WatchState::done(w.step, layers), Some(layers - 1));
        assert_eq!(WatchState::done(0, layers), None);
        // New settings start from nothing, at the same speed.
        w.apply(WatchAction::SetSpeed(4));
        w.apply(WatchAction::Request { id: 9, key: (2, Sched::LAYER_BY_LAYER, Mode::Streamed, 1) });
        assert_eq!((w.step, w.steps(), w.speed), (0, 0, 4));
    }
}
