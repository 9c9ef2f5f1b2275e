//! Classification speed: 100,000 items through the built-in rules, on one core.
//!
//! Run with `cargo bench --bench classify`. Prints the time, the ratio to the one-second target,
//! and, measured in the same run, the time of a baseline pass that only lower-cases every
//! item's text (the least any matcher must do), so the ratio holds on a noisy machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gl_evidence::classify::{classify, RuleSet};
use gl_evidence::framework::Framework;
use gl_evidence::model::Snapshot;

const ITEMS: usize = 100_000;
const TARGET: Duration = Duration::from_secs(1);

fn main() {
    let demo = Snapshot::from_json(include_str!("../data/demo/snapshot.json"), "demo")
        .expect("demo parses");
    let mut snapshot = demo.clone();
    snapshot.items = (0..ITEMS)
        .map(|n| {
            let mut item = demo.items[n % demo.items.len()].clone();
            item.id = format!("{}-{n}", item.id);
            item.title = format!("{} #{n}", item.title);
            item
        })
        .collect();
    let framework = Framework::builtin();
    let rules = RuleSet::builtin();

    let started = Instant::now();
    let text_bytes: usize = snapshot
        .items
        .iter()
        .map(|i| {
            let title = i.title.to_lowercase();
            let description = i.description.as_deref().unwrap_or("").to_lowercase();
            black_box(title.len() + description.len())
        })
        .sum();
    let baseline = started.elapsed();

    let started = Instant::now();
    classify(&mut snapshot, &framework, &rules).expect("built-in rules validate");
    let elapsed = started.elapsed();
    let matched = snapshot
        .items
        .iter()
        .filter(|i| !i.competencies.is_empty())
        .count();

    println!(
        "classify: {ITEMS} items, {} rules, {text_bytes} bytes of text",
        rules.rules.len()
    );
    println!(
        "  classify time:        {:>8.3} s ({matched} items matched)",
        elapsed.as_secs_f64()
    );
    println!("  baseline (lowercase): {:>8.3} s", baseline.as_secs_f64());
    println!(
        "  ratio to baseline:    {:>8.1}x",
        elapsed.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
    );
    println!(
        "  ratio to 1 s target:  {:>8.2} ({})",
        elapsed.as_secs_f64() / TARGET.as_secs_f64(),
        if elapsed <= TARGET {
            "within target"
        } else {
            "OVER TARGET"
        }
    );
}
