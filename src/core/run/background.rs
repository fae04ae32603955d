//! The kernel calibration a live run makes when this machine has none (issue #29): short steps
//! on the engine's own thread between inferences, never beside one, so no inference shares
//! the cores with it; the inference after a step is timed as cold (the step went through the
//! caches). The calibration so far is saved to the cache after every step (a run stopped
//! early leaves a usable, partial one) and handed to the state when its first pass is
//! complete and again when both are.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::core::limits::kernels::calibration::{self, Calibrator};
use crate::core::limits::kernels::{Calibrated, CalibrationHandle, Options};
use crate::core::run::event::Event;

/// Time a step may take: a tenth of the time between steps, so inference keeps most of it.
const STEP: Duration = Duration::from_millis(250);
/// Time between the starts of two steps.
const EVERY: Duration = Duration::from_millis(2500);

/// A calibration under way in a live run.
pub struct BackgroundCalibration {
    calibrator: Calibrator,
    /// Where it is saved (`None`: no cache folder, kept in memory only).
    path: Option<PathBuf>,
    last_step: Option<Instant>,
    first_pass_sent: bool,
}

impl BackgroundCalibration {
    /// A calibration with `options`, to be made step by step and saved to `cache`.
    #[must_use]
    pub fn new(options: &Options, cache: Option<PathBuf>) -> Self {
        Self { calibrator: Calibrator::new(options), path: cache, last_step: None, first_pass_sent: false }
    }

    /// Whether a step is due (the first one right away).
    #[must_use]
    pub fn due(&self, now: Instant) -> bool {
        self.last_step.is_none_or(|last| now.duration_since(last) >= EVERY)
    }

    /// One step (libtorch must be set to the calibration's threads), then the events it
    /// brings: its progress, and the calibration when a pass has just completed. Returns
    /// whether the calibration is done.
    pub fn step(&mut self, send: &mut impl FnMut(Event)) -> bool {
        self.last_step = Some(Instant::now());
        let done = self.calibrator.step(STEP);
        if let Some(path) = &self.path {
            // A failed save costs only the cache: the run still gets its predictions.
            let _ = calibration::store(path, self.calibrator.calibration());
        }
        let (timed, of) = self.calibrator.progress();
        send(Event::CalibrationProgress { timed, of });
        let first_pass = self.calibrator.first_pass_done() && !self.first_pass_sent;
        if first_pass || done {
            self.first_pass_sent = true;
            let made = Calibrated::new(self.calibrator.calibration().clone());
            // Fitted here, on the engine's thread between inferences, not in the front end.
            let _ = made.predictor();
            send(Event::Calibration(CalibrationHandle(made)));
        }
        done
    }
}
