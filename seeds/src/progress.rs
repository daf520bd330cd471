//! Telling the user how loading goes, on stderr: a progress bar per table on a terminal, one
//! plain line per table otherwise (logs, CI), nothing at all when asked to be quiet.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bars,
    Lines,
    Quiet,
}

/// Where progress goes.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    mode: Mode,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn auto() -> Self {
        let mode = if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        };
        Self { mode }
    }

    /// No output: for tests and embedding.
    pub fn quiet() -> Self {
        Self { mode: Mode::Quiet }
    }

    /// A line about what is happening, unless quiet.
    pub fn note(&self, line: &str) {
        if self.mode != Mode::Quiet {
            eprintln!("{line}");
        }
    }

    /// Starts reporting the load of `rows` rows into `table`.
    pub fn table(&self, table: &'static str, rows: u64) -> TableProgress {
        let bar = (self.mode == Mode::Bars).then(|| {
            let bar = ProgressBar::with_draw_target(Some(rows), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>22} [{bar:30}] {human_pos:>9}/{human_len:9} {per_sec:>14} {elapsed:>4}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(table);
            bar
        });
        TableProgress {
            bar,
            mode: self.mode,
            table,
            rows,
            started: Instant::now(),
        }
    }
}

/// The progress of one table's load.
pub struct TableProgress {
    bar: Option<ProgressBar>,
    mode: Mode,
    table: &'static str,
    rows: u64,
    started: Instant,
}

impl TableProgress {
    /// `n` more rows are in.
    pub fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// The table is loaded; returns how long it took.
    pub fn finish(self) -> Duration {
        let took = self.started.elapsed();
        match (&self.bar, self.mode) {
            (Some(bar), _) => bar.finish(),
            (None, Mode::Lines) => eprintln!(
                "loaded {:<22} {:>9} rows in {:>7.2} s",
                self.table,
                self.rows,
                took.as_secs_f64()
            ),
            _ => {}
        }
        took
    }
}
