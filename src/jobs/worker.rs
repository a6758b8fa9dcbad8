//! The worker: claims due jobs in batches and runs them, beside `serve` or as `homeward worker`.
//! Tests call `Worker::run_due_jobs` directly under their clock; the loop around it only waits.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use tokio::sync::watch;

use super::{JobError, Registry, periodic};
use crate::services::Context;
use crate::services::inactivity;
use crate::services::jobs::{self, ClaimedJob};
use crate::services::push::{self, Delivery, MessageChannel};

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Jobs claimed (and run at once) per batch.
    pub batch: u32,
    /// How long the loop waits when nothing is due.
    pub poll: StdDuration,
    /// How long a stopping worker lets its running jobs finish.
    pub drain: StdDuration,
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            batch: 8,
            poll: StdDuration::from_secs(1),
            drain: StdDuration::from_secs(25),
        }
    }
}

/// What one `run_due_jobs` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Periodic jobs this call enqueued.
    pub scheduled: u32,
    /// Jobs taken back from workers whose lease expired.
    pub reclaimed: u64,
    pub done: u32,
    /// Failed tries that will be retried.
    pub failed: u32,
    /// Jobs moved to the dead letters.
    pub dead: u32,
    /// What the push delivered (with a channel and a WeChat template configured).
    pub delivery: Delivery,
    /// Inactivity notices sent (`services::inactivity`).
    pub notices_sent: u32,
}

/// One worker: its name on the rows it holds, the handlers, and a flag that stops claiming.
#[derive(Clone)]
pub struct Worker {
    ctx: Context,
    registry: Arc<Registry>,
    id: String,
    options: WorkerOptions,
    stopping: Arc<AtomicBool>,
    channel: Option<Arc<dyn MessageChannel>>,
    /// Release jobs this worker already enqueued (see `push::plan::scan`).
    released: Arc<Mutex<HashSet<String>>>,
}

impl Worker {
    pub fn new(ctx: Context, registry: Registry, options: WorkerOptions) -> Worker {
        let id = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Worker {
            ctx,
            registry: Arc::new(registry),
            id,
            options,
            stopping: Arc::new(AtomicBool::new(false)),
            channel: None,
            released: Arc::default(),
        }
    }

    /// Delivers the push's messages through `channel`.
    pub fn with_channel(mut self, channel: Arc<dyn MessageChannel>) -> Worker {
        self.channel = Some(channel);
        self
    }

    /// The name this worker writes into `locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// From now on, claim nothing more; running jobs finish.
    pub fn stop_claiming(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Schedules this period's periodic jobs, takes back expired leases, runs every job due on
    /// the clock, batch after batch, until none is due (or the worker is stopping), then sends
    /// the push messages that are due.
    pub async fn run_due_jobs(&self) -> anyhow::Result<RunReport> {
        // A release is planned within a tick of its time, not a period later.
        push::plan::scan(&self.ctx, &self.released).await?;
        let mut report = RunReport {
            scheduled: periodic::schedule(&self.ctx, self.ctx.clock.now()).await?,
            reclaimed: jobs::reclaim_expired(&self.ctx.db, self.ctx.clock.now()).await?,
            ..RunReport::default()
        };
        while !self.stopping() {
            let batch = jobs::claim(
                &self.ctx.db,
                &self.id,
                self.options.batch,
                self.ctx.clock.now(),
            )
            .await?;
            if batch.is_empty() {
                break;
            }
            let runs: Vec<_> = batch
                .into_iter()
                .map(|job| {
                    let worker = self.clone();
                    tokio::spawn(async move { worker.run_one(job).await })
                })
                .collect();
            for run in runs {
                match run.await {
                    Ok(Ok("done")) => report.done += 1,
                    Ok(Ok("dead")) => report.dead += 1,
                    Ok(Ok(_)) => report.failed += 1,
                    Ok(Err(error)) => return Err(error),
                    Err(join) => return Err(anyhow::anyhow!("a job task stopped: {join}")),
                }
            }
        }
        if let Some(channel) = &self.channel
            && push::enabled(&self.ctx)
            && !self.stopping()
        {
            report.delivery = push::deliver_due(&self.ctx, channel.as_ref(), &self.id).await?;
            if !report.delivery.throttled {
                report.notices_sent = inactivity::deliver_due(&self.ctx, channel.as_ref()).await?;
            }
        }
        Ok(report)
    }

    /// Runs one claimed job and records how it went; returns its new state.
    async fn run_one(&self, job: ClaimedJob) -> anyhow::Result<&'static str> {
        let outcome = match self.registry.get(&job.kind).cloned() {
            None => Err(JobError::Permanent(anyhow::anyhow!(
                "no handler for job kind '{}'",
                job.kind
            ))),
            Some(handler) => {
                // Its own task, so a panic in a handler fails the job, not the worker.
                let run = tokio::spawn(handler(self.ctx.clone(), job.payload.clone()));
                match run.await {
                    Ok(result) => result,
                    Err(join) => Err(JobError::Retry(anyhow::anyhow!("the job panicked: {join}"))),
                }
            }
        };
        let now = self.ctx.clock.now();
        match outcome {
            Ok(()) => {
                jobs::complete(&self.ctx.db, &job, &self.id, now).await?;
                tracing::debug!(job = job.id, kind = %job.kind, "job done");
                Ok("done")
            }
            Err(error) => {
                let permanent = matches!(error, JobError::Permanent(_));
                let message = error.to_string();
                let state =
                    jobs::fail(&self.ctx.db, &job, &self.id, &message, permanent, now).await?;
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempt, state, error = %message, "job failed");
                Ok(state)
            }
        }
    }
}

/// Runs `worker` until `stop` turns true: then it claims nothing more and gives the jobs it is
/// running up to `drain` to finish (an unfinished job's lease runs out and another worker
/// takes it).
pub async fn run_until_stopped(worker: Worker, mut stop: watch::Receiver<bool>) {
    tracing::info!(worker = worker.id(), "job worker started");
    let drain = worker.options.drain;
    let poll = worker.options.poll;
    let looping = worker.clone();
    let mut task = tokio::spawn(async move {
        loop {
            if looping.stopping() {
                break;
            }
            let wait = match looping.run_due_jobs().await {
                // The second's send allowance is spent: come back when the next one starts.
                Ok(report) if report.delivery.throttled => {
                    let into_second = looping.ctx.clock.now().timestamp_subsec_millis();
                    StdDuration::from_millis(u64::from(1000 - into_second.min(999)))
                }
                Ok(_) => poll,
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "job worker: database unavailable, retrying");
                    poll
                }
            };
            tokio::time::sleep(wait).await;
        }
    });
    let stop_asked = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    tokio::select! {
        _ = &mut task => {}
        _ = stop_asked => {
            worker.stop_claiming();
            if tokio::time::timeout(drain, &mut task).await.is_err() {
                tracing::warn!("job worker: jobs still running after the drain period; leaving them to their leases");
                task.abort();
            }
        }
    }
    tracing::info!(worker = worker.id(), "job worker stopped");
}
