//! Clocks: the system clock for Lambda, a settable one for replays and tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::time::Timestamp;
use crate::ports::Clock;

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp::from_secs(secs)
    }
}

/// A clock that shows whatever it was last set to; clones share the time.
#[derive(Clone, Debug, Default)]
pub struct SimClock(Arc<AtomicI64>);

impl SimClock {
    /// A clock showing `t`.
    pub fn at(t: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(t.secs())))
    }

    /// Moves the clock (and every clone) to `t`.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.secs(), Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_secs(self.0.load(Ordering::SeqCst))
    }
}
