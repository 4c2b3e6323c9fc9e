//! The laboratory information system, where test results live.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// The lab system a handler looks results up in. Scenarios make one with
/// [`LabSystem::answering`]; labs only call [`LabSystem::lookup`].
#[derive(Clone, Debug, Default)]
pub struct LabSystem {
    /// How long each patient's lookup takes; `None`: the system never answers.
    answer_after: Arc<HashMap<u32, Option<Duration>>>,
    /// Reply channels for lookups the system will never answer: they stay open forever,
    /// so a lookup waiting on one waits for good (it is not cancelled by a closed channel).
    never_answered: Arc<Mutex<Vec<oneshot::Sender<String>>>>,
}

impl LabSystem {
    /// For scenarios: a lab system that answers each patient's lookup after the given
    /// time, or never.
    pub fn answering(answer_after: impl IntoIterator<Item = (u32, Option<Duration>)>) -> Self {
        LabSystem {
            answer_after: Arc::new(answer_after.into_iter().collect()),
            never_answered: Arc::default(),
        }
    }

    /// The patient's latest result. May take a long time, or never finish.
    pub async fn lookup(&self, patient: u32) -> String {
        match self.answer_after.get(&patient).copied().flatten() {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                format!("patient {patient}: HbA1c 5.4%")
            }
            None => {
                let (reply, answer) = oneshot::channel();
                self.never_answered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(reply);
                answer.await.unwrap_or_default()
            }
        }
    }
}
