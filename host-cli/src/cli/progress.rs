//! Progress bars for everything that moves bytes (indicatif), shown only to a person: with `--output json` or when
//! stderr is not a terminal the CLI uses [`crate::content::NoProgress`] instead.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use nv2_core::oci::Descriptor;

use crate::content::{NoProgress, Progress, TransferOutcome};

/// One bar per transfer under a shared [`MultiProgress`].
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    style: ProgressStyle,
}

impl Bars {
    fn new() -> Self {
        let style = ProgressStyle::with_template("{prefix:>10} {bar:30} {bytes:>10}/{total_bytes:<10} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
            style,
        }
    }
}

/// The progress display for this run: bars for a person at a terminal, nothing otherwise.
pub fn for_terminal(json_output: bool) -> Arc<dyn Progress> {
    if json_output || !std::io::stderr().is_terminal() {
        Arc::new(NoProgress)
    } else {
        Arc::new(Bars::new())
    }
}

fn short(descriptor: &Descriptor) -> String {
    let hex = descriptor.digest.hex();
    hex.get(..12).unwrap_or(hex).to_string()
}

impl Progress for Bars {
    fn start(&self, descriptor: &Descriptor) {
        let bar = self.multi.add(ProgressBar::new(descriptor.size));
        bar.set_style(self.style.clone());
        bar.set_prefix(short(descriptor));
        bar.set_message(descriptor.media_type.clone());
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(descriptor.digest.to_string(), bar);
        }
    }

    fn advance(&self, descriptor: &Descriptor, bytes: u64) {
        if let Ok(bars) = self.bars.lock() {
            if let Some(bar) = bars.get(&descriptor.digest.to_string()) {
                bar.inc(bytes);
            }
        }
    }

    fn finish(&self, descriptor: &Descriptor, outcome: TransferOutcome) {
        let bar = self.bars.lock().ok().and_then(|mut bars| bars.remove(&descriptor.digest.to_string()));
        if let Some(bar) = bar {
            let word = match outcome {
                TransferOutcome::Copied => "done",
                TransferOutcome::Skipped => "exists",
                TransferOutcome::Mounted => "mounted",
            };
            bar.set_position(descriptor.size);
            bar.finish_with_message(format!("{word} {}", descriptor.media_type));
        }
    }
}
