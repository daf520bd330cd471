//! The statements a migration actually sends, read off the real connection while its code runs,
//! so the history holds an exact audit of every run whether or not the migration could be
//! rendered beforehand.
//!
//! SeaORM announces each statement it sends (prepared, raw or inside a transaction) as a
//! `DEBUG` event of its driver modules (its `debug-print` feature). While a migration's future
//! is polled, a subscriber that wraps whatever subscriber is in place keeps those events and
//! passes everything on unchanged, so the program's own logging is untouched. Only the
//! migration's own statements are kept: the engine's ledger writes run outside the capture.

use futures_util::FutureExt;
use std::cell::Cell;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_core::span::Current;

use crate::store::render::panic_message;

/// What running a migration's code produced.
#[derive(Debug)]
pub struct Captured<T> {
    /// The code's result, or the panic's message when it panicked.
    pub outcome: Result<T, String>,
    /// Every statement it sent, in order, with its values inlined.
    pub statements: Vec<String>,
}

/// Runs `code` to its end, keeping the statements it sends and catching a panic, which
/// becomes the outcome's error: a panicking migration is a failed migration, never a crashed
/// process that leaves its transaction, its ledger row and the lock to chance.
pub async fn run<F: Future>(code: F) -> Captured<F::Output> {
    let run = async {
        let outcome = contained(code.with_subscriber(capturing())).await;
        let statements = SEEN.with(RefCell::take);
        Captured {
            outcome,
            statements,
        }
    };
    SEEN.scope(RefCell::new(Vec::new()), run).await
}

tokio::task_local! {
    /// The statements of the migration this task is running: each run's own list, so runs
    /// polled in turn on one thread (a fleet migrated concurrently) never mix their statements.
    static SEEN: RefCell<Vec<String>>;
}

/// The capturing subscriber, made once per process around the subscriber in place when
/// migration code first runs (the program's logging is set up before that). Making a
/// subscriber makes `tracing` recompute every call site's interest, which is too slow to do
/// for each of a thousand migrations.
///
/// A second, silent subscriber lives beside it. While `tracing` knows a single subscriber, it
/// decides whether a call site first reached later is of interest by asking only the thread's
/// current one (`has_just_one` in tracing-core's callsite registry); a statement first sent
/// outside a migration, in a program with no subscriber of its own, would then be cached as of
/// no interest, and never captured again. With two, every call site asks both.
fn capturing() -> Dispatch {
    static CAPTURING: OnceLock<(Dispatch, Dispatch)> = OnceLock::new();
    let (capture, _silent) = CAPTURING.get_or_init(|| {
        let capture = Dispatch::new(Capture {
            inner: tracing::dispatcher::get_default(Dispatch::clone),
        });
        (
            capture,
            Dispatch::new(tracing::subscriber::NoSubscriber::default()),
        )
    });
    capture.clone()
}

thread_local! {
    /// How many migration futures this thread is polling right now.
    static IN_MIGRATION_CODE: Cell<usize> = const { Cell::new(0) };
}

/// Whether this thread is running a migration's code (applying, reverting or rendering it).
/// A panic hook asks, to stay quiet about the panics the engine catches and reports itself as
/// a failed migration.
pub fn in_migration_code() -> bool {
    IN_MIGRATION_CODE.with(|n| n.get() > 0)
}

/// Counts one poll of migration code; dropped when the poll returns or unwinds.
struct Polling;

impl Polling {
    fn start() -> Self {
        IN_MIGRATION_CODE.with(|n| n.set(n.get() + 1));
        Polling
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        IN_MIGRATION_CODE.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Runs migration code to its end, turning a panic into its message.
pub(crate) async fn contained<F: Future>(code: F) -> Result<F::Output, String> {
    let mut code = Box::pin(code);
    let polled = std::future::poll_fn(move |cx| {
        let _polling = Polling::start();
        code.as_mut().poll(cx)
    });
    AssertUnwindSafe(polled)
        .catch_unwind()
        .await
        .map_err(|payload| panic_message(payload.as_ref()))
}

/// Whether an event is SeaORM announcing a statement it sends to a real database.
fn is_statement(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    meta.is_event()
        && *meta.level() == Level::DEBUG
        && (target.starts_with("sea_orm::driver::sqlx_")
            || target == "sea_orm::database::transaction")
}

struct Capture {
    inner: Dispatch,
}

struct Message(Option<String>);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl Subscriber for Capture {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_statement(meta) {
            Interest::sometimes()
        } else {
            self.inner.register_callsite(meta)
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        is_statement(meta) || self.inner.enabled(meta)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        if is_statement(meta) {
            let mut message = Message(None);
            event.record(&mut message);
            if let Some(sql) = message.0 {
                // Outside a run (another task's statement), there is no list and nothing is kept.
                let _ = SEEN.try_with(|seen| seen.borrow_mut().push(sql));
            }
        }
        if self.inner.enabled(meta) {
            self.inner.event(event);
        }
    }

    fn enter(&self, span: &Id) {
        self.inner.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> Current {
        self.inner.current_span()
    }
}
