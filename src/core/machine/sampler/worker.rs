//! A thread that answers requests, and a caller that waits for each answer at most a deadline.
//!
//! Sensor files are read on such a thread: a read that never returns (a hung driver, a dead
//! network mount under `--sysfs-root`) then costs one sample its sensor values instead of
//! stopping the sampler, and with it shutdown, which waits for the sampler.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

/// The caller's end of a worker thread running `FnMut(Q) -> A`. Dropping it ends the thread
/// once the request in hand, if any, is done; a thread stuck for good is left behind, which
/// is the point.
pub(crate) struct TimedWorker<Q, A> {
    requests: Sender<Q>,
    answers: Receiver<A>,
    /// A request went out and its answer has not come back yet.
    overdue: bool,
}

impl<Q: Send + 'static, A: Send + 'static> TimedWorker<Q, A> {
    /// Starts a thread named `name` that answers each request with `work`.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub(crate) fn spawn(name: &str, mut work: impl FnMut(Q) -> A + Send + 'static) -> std::io::Result<Self> {
        let (requests, inbox) = mpsc::channel::<Q>();
        let (outbox, answers) = mpsc::channel();
        thread::Builder::new().name(name.into()).spawn(move || {
            for request in inbox {
                if outbox.send(work(request)).is_err() {
                    return;
                }
            }
        })?;
        Ok(Self { requests, answers, overdue: false })
    }

    /// Sends `request` and waits at most `deadline` for its answer. While an earlier answer is
    /// overdue nothing is sent or awaited: the call returns at once with that answer if it has
    /// come since (late, but the freshest there is), else `None`. `None` also once the thread
    /// has died.
    pub(crate) fn ask(&mut self, request: Q, deadline: Duration) -> Option<A> {
        if self.overdue {
            let late = self.answers.try_recv().ok();
            self.overdue = late.is_none();
            return late;
        }
        self.requests.send(request).ok()?;
        match self.answers.recv_timeout(deadline) {
            Ok(answer) => Some(answer),
            Err(RecvTimeoutError::Timeout) => {
                self.overdue = true;
                None
            }
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn answers_in_time_come_back() {
        let mut worker = TimedWorker::spawn("test-worker", |n: u32| n * 2).unwrap();
        assert_eq!(worker.ask(21, Duration::from_secs(20)), Some(42));
        assert_eq!(worker.ask(4, Duration::from_secs(20)), Some(8));
    }

    /// A request that blocks until released: the caller waits once for the deadline, then not
    /// at all while the answer is overdue, and gets that answer late once it exists.
    #[test]
    fn a_stuck_request_costs_one_deadline() {
        let (release, gate) = mpsc::channel::<()>();
        let mut worker = TimedWorker::spawn("test-worker", move |n: u32| {
            if n == 1 {
                let _ = gate.recv();
            }
            n
        })
        .unwrap();
        let deadline = Duration::from_millis(100);
        let start = Instant::now();
        assert_eq!(worker.ask(1, deadline), None);
        assert!(start.elapsed() >= deadline);
        let start = Instant::now();
        assert_eq!(worker.ask(2, Duration::from_secs(20)), None, "still stuck");
        assert!(start.elapsed() < Duration::from_secs(10), "waited again while stuck");

        release.send(()).unwrap();
        let start = Instant::now();
        let late = loop {
            if let Some(answer) = worker.ask(3, Duration::from_secs(20)) {
                break answer;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "the late answer never came");
            thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(late, 1, "the overdue answer, not one to a request never sent");
        assert_eq!(worker.ask(4, Duration::from_secs(20)), Some(4), "back to normal");
    }

    #[test]
    fn a_dead_worker_answers_none() {
        let mut worker = TimedWorker::spawn("test-worker", |n: u32| {
            assert!(n != 0, "dies on zero");
            n
        })
        .unwrap();
        assert_eq!(worker.ask(0, Duration::from_secs(20)), None);
        assert_eq!(worker.ask(1, Duration::from_secs(20)), None);
    }
}
