//! The push's side of the tests: a message channel that records what it was handed and can be
//! told to answer as WeChat does when things go wrong, and workers that deliver through it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use homeward::jobs::{Registry, Worker, WorkerOptions};
use homeward::services::Context;
use homeward::services::push::{MessageChannel, OutgoingMessage, SendOutcome};

use super::TestApp;

/// Records every message it accepts; per learner, scripted answers come first.
#[derive(Default)]
pub struct RecordingChannel {
    sent: Mutex<Vec<OutgoingMessage>>,
    script: Mutex<HashMap<i64, VecDeque<SendOutcome>>>,
    calls: Mutex<u32>,
}

impl RecordingChannel {
    pub fn new() -> Arc<RecordingChannel> {
        Arc::new(RecordingChannel::default())
    }

    /// The next sends to `learner` answer these, in order, before sends succeed again.
    pub fn answer(&self, learner: i64, outcomes: Vec<SendOutcome>) {
        self.script
            .lock()
            .unwrap()
            .entry(learner)
            .or_default()
            .extend(outcomes);
    }

    /// Every message accepted so far.
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent.lock().unwrap().clone()
    }

    /// Learner ids of the messages accepted, sorted.
    pub fn recipients(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.sent().iter().map(|m| m.learner_id).collect();
        ids.sort_unstable();
        ids
    }

    /// How many sends were attempted, accepted or not.
    pub fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
}

#[async_trait::async_trait]
impl MessageChannel for RecordingChannel {
    async fn send(&self, _ctx: &Context, message: &OutgoingMessage) -> SendOutcome {
        *self.calls.lock().unwrap() += 1;
        let scripted = self
            .script
            .lock()
            .unwrap()
            .get_mut(&message.learner_id)
            .and_then(VecDeque::pop_front);
        match scripted {
            Some(outcome) if outcome != SendOutcome::Sent => outcome,
            _ => {
                self.sent.lock().unwrap().push(message.clone());
                SendOutcome::Sent
            }
        }
    }
}

impl TestApp {
    /// A worker of this app that pushes through `channel`, with a WeChat template configured
    /// and the send rate `rate` per second.
    pub fn push_worker(&self, channel: Arc<dyn MessageChannel>, rate: u32) -> Worker {
        let mut ctx = self.state.ctx.clone();
        let mut settings = (*ctx.settings).clone();
        settings.wechat_template_id = Some("TEMPLATE-weekly-lesson".into());
        settings.push_rate = rate;
        ctx.settings = Arc::new(settings);
        Worker::new(ctx, Registry::standard(), WorkerOptions::default()).with_channel(channel)
    }
}
