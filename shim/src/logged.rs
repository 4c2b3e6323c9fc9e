//! loom's types with logging. Each step is logged once the operation has happened,
//! and loom switches threads only inside its own operations, so the log's order is
//! the execution's order.

use crate::log::{record, record_at};
use std::any::Any;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::{LockResult, PoisonError};

macro_rules! atomic {
    ($name:ident, $int:ty) => {
        #[derive(Debug, Default)]
        pub struct $name(loom::sync::atomic::$name);

        impl $name {
            pub fn new(value: $int) -> Self {
                Self(loom::sync::atomic::$name::new(value))
            }
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $int {
                let value = self.0.load(order);
                record("load", Some(value as u64), None);
                value
            }
            #[track_caller]
            pub fn store(&self, value: $int, order: Ordering) {
                self.0.store(value, order);
                record("store", None, Some(value as u64));
            }
            #[track_caller]
            pub fn swap(&self, value: $int, order: Ordering) -> $int {
                let was = self.0.swap(value, order);
                record("swap", Some(was as u64), Some(value as u64));
                was
            }
            #[track_caller]
            pub fn fetch_add(&self, value: $int, order: Ordering) -> $int {
                let was = self.0.fetch_add(value, order);
                record(
                    "fetch_add",
                    Some(was as u64),
                    Some(was.wrapping_add(value) as u64),
                );
                was
            }
            #[track_caller]
            pub fn fetch_sub(&self, value: $int, order: Ordering) -> $int {
                let was = self.0.fetch_sub(value, order);
                record(
                    "fetch_sub",
                    Some(was as u64),
                    Some(was.wrapping_sub(value) as u64),
                );
                was
            }
            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                let result = self.0.compare_exchange(current, new, success, failure);
                logged_cas(
                    "compare_exchange",
                    result.map(|was| was as u64).map_err(|was| was as u64),
                    new as u64,
                );
                result
            }
            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $int,
                new: $int,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$int, $int> {
                let result = self.0.compare_exchange_weak(current, new, success, failure);
                logged_cas(
                    "compare_exchange_weak",
                    result.map(|was| was as u64).map_err(|was| was as u64),
                    new as u64,
                );
                result
            }
            #[track_caller]
            pub fn fetch_update(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: impl FnMut($int) -> Option<$int>,
            ) -> Result<$int, $int> {
                let at = Some(Location::caller());
                let mut new = None;
                let result = self.0.fetch_update(set_order, fetch_order, |was| {
                    new = f(was);
                    new
                });
                let was = result.unwrap_or_else(|was| was);
                record_at(
                    at,
                    "fetch_update",
                    Some(was as u64),
                    new.filter(|_| result.is_ok()).map(|new| new as u64),
                );
                result
            }
        }
    };
}
atomic!(AtomicU32, u32);
atomic!(AtomicU64, u64);
atomic!(AtomicUsize, usize);

/// A failed compare-exchange read a value and wrote nothing.
#[track_caller]
fn logged_cas(op: &str, result: Result<u64, u64>, new: u64) {
    match result {
        Ok(was) => record(op, Some(was), Some(new)),
        Err(saw) => record(op, Some(saw), None),
    }
}

/// A lock guard (loom's) that logs its release. When the data is a plain number
/// (`u64`, `usize`, `u32`, `bool`), the acquisition logs the value it found, and the
/// release the value it leaves if the guard was written through.
#[derive(Debug)]
pub struct Logged<G> {
    guard: Option<G>,
    release: &'static str,
    peek: fn(&G) -> Option<u64>,
    written: bool,
}

impl<G> Logged<G> {
    /// Logs the release and hands back loom's guard, still locked until dropped.
    fn release(&mut self) -> Option<G> {
        let guard = self.guard.take()?;
        let wrote = if self.written { (self.peek)(&guard) } else { None };
        // A guard is released where it is dropped, which no caller location tells.
        record_at(None, self.release, None, wrote);
        Some(guard)
    }
}

impl<G: Deref> Deref for Logged<G> {
    type Target = G::Target;
    fn deref(&self) -> &G::Target {
        self.guard
            .as_deref()
            .expect("a guard holds its lock until dropped")
    }
}

impl<G: DerefMut> DerefMut for Logged<G> {
    fn deref_mut(&mut self) -> &mut G::Target {
        self.written = true;
        self.guard
            .as_deref_mut()
            .expect("a guard holds its lock until dropped")
    }
}

impl<G> Drop for Logged<G> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The model is over (a panic, or loom found a deadlock) and loom can take
            // no more steps: releasing now would panic again and abort the process.
            std::mem::forget(self.guard.take());
        } else {
            self.release();
        }
    }
}

/// Logs an acquisition that has just happened and wraps its guard.
#[track_caller]
fn acquired<G, T>(result: LockResult<G>, acquire: &str, release: &'static str) -> LockResult<Logged<G>>
where
    G: Deref<Target = T>,
    T: Any,
{
    let at = Some(Location::caller());
    let wrap = |guard: G| {
        record_at(at, acquire, peek(&guard), None);
        Logged {
            guard: Some(guard),
            release,
            peek: peek::<G, T>,
            written: false,
        }
    };
    result
        .map(wrap)
        .map_err(|poisoned| PoisonError::new(wrap(poisoned.into_inner())))
}

/// The guarded value, if it is a plain number.
fn peek<G: Deref<Target = T>, T: Any>(guard: &G) -> Option<u64> {
    let value: &dyn Any = &**guard;
    (value.downcast_ref::<u64>().copied())
        .or_else(|| value.downcast_ref::<usize>().map(|&v| v as u64))
        .or_else(|| value.downcast_ref::<u32>().map(|&v| u64::from(v)))
        .or_else(|| value.downcast_ref::<bool>().map(|&v| u64::from(v)))
}

// Under loom a lock's data must be `'static` (so its value can be logged); labs
// lock counters and flags, which are.
#[derive(Debug, Default)]
pub struct Mutex<T: ?Sized>(loom::sync::Mutex<T>);

impl<T> Mutex<T> {
    pub fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }
}

impl<T: 'static> Mutex<T> {
    #[track_caller]
    pub fn lock(&self) -> LockResult<Logged<loom::sync::MutexGuard<'_, T>>> {
        acquired(self.0.lock(), "lock", "unlock")
    }
}

#[derive(Debug, Default)]
pub struct RwLock<T: ?Sized>(loom::sync::RwLock<T>);

impl<T> RwLock<T> {
    pub fn new(value: T) -> Self {
        RwLock(loom::sync::RwLock::new(value))
    }
}

impl<T: 'static> RwLock<T> {
    #[track_caller]
    pub fn read(&self) -> LockResult<Logged<loom::sync::RwLockReadGuard<'_, T>>> {
        acquired(self.0.read(), "read_lock", "read_unlock")
    }
    #[track_caller]
    pub fn write(&self) -> LockResult<Logged<loom::sync::RwLockWriteGuard<'_, T>>> {
        acquired(self.0.write(), "write_lock", "write_unlock")
    }
}

#[derive(Debug, Default)]
pub struct Condvar(loom::sync::Condvar);

impl Condvar {
    pub fn new() -> Self {
        Condvar(loom::sync::Condvar::new())
    }
    /// Logged as `wait` (the lock is released) and, once woken, `lock` again.
    #[track_caller]
    pub fn wait<'a, T: 'static>(
        &self,
        mut guard: Logged<loom::sync::MutexGuard<'a, T>>,
    ) -> LockResult<Logged<loom::sync::MutexGuard<'a, T>>> {
        guard.release = "wait";
        let inner = guard.release().expect("a guard holds its lock until dropped");
        acquired(self.0.wait(inner), "lock", "unlock")
    }
    #[track_caller]
    pub fn notify_one(&self) {
        self.0.notify_one();
        record("notify_one", None, None);
    }
    #[track_caller]
    pub fn notify_all(&self) {
        self.0.notify_all();
        record("notify_all", None, None);
    }
}
