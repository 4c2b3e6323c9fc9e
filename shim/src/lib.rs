//! The one seam between the labs and the model checker.
//!
//! A lab that loom models imports its sync types from here, never from `std::sync`, so
//! the same source runs on real threads and under loom (tokio's `src/loom/mod.rs` does
//! the same for the whole of tokio). Normally this crate is `std`. Built with
//! `--cfg loom`, it is loom, plus one thing loom does not do: each operation is written
//! to a log (the `log` module, in `log.rs`; the logging types are in `logged.rs`), so a
//! model can print the interleaving that broke it.
//!
//! Both builds export the same names, so code that compiles on one compiles on the other
//! (one catch: under loom a lock's data must be `'static`, so its value can be logged).

#[cfg(not(loom))]
pub mod sync {
    pub use std::sync::{Arc, Condvar, LockResult, Mutex, MutexGuard, PoisonError};
    pub use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

    pub mod atomic {
        pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
    }
}

#[cfg(not(loom))]
pub mod thread {
    pub use std::thread::{Builder, JoinHandle, spawn, yield_now};
}

#[cfg(not(loom))]
pub mod hint {
    pub use std::hint::spin_loop;
}

#[cfg(loom)]
pub mod sync {
    pub use crate::logged::{Condvar, Logged, Mutex, RwLock};
    pub use loom::sync::Arc;
    pub use std::sync::{LockResult, PoisonError};

    pub type MutexGuard<'a, T> = Logged<loom::sync::MutexGuard<'a, T>>;
    pub type RwLockReadGuard<'a, T> = Logged<loom::sync::RwLockReadGuard<'a, T>>;
    pub type RwLockWriteGuard<'a, T> = Logged<loom::sync::RwLockWriteGuard<'a, T>>;

    pub mod atomic {
        pub use crate::logged::{AtomicU32, AtomicU64, AtomicUsize};
        /// Not logged: a flag's loads and stores rarely explain a lost update.
        pub use loom::sync::atomic::AtomicBool;
        pub use std::sync::atomic::Ordering;
    }
}

#[cfg(loom)]
pub mod thread {
    pub use loom::thread::{Builder, JoinHandle, spawn, yield_now};
}

#[cfg(loom)]
pub mod hint {
    pub use loom::hint::spin_loop;
}

#[cfg(loom)]
pub mod log;

#[cfg(loom)]
mod logged;
