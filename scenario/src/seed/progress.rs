//! The seeding progress bar on stderr.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub(super) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Creates a bar of `steps` steps. indicatif draws nothing when stderr is not a terminal, and
    /// `visible = false` hides it on a terminal too.
    pub fn new(visible: bool, steps: u64) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(steps), target);
        let style = ProgressStyle::with_template(
            "seeding {msg:36} [{bar:30}] {pos}/{len} steps, {elapsed}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        Progress { bar }
    }

    pub fn step_message(&self, message: &'static str) {
        self.bar.set_message(message);
    }

    pub fn advance(&self) {
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
