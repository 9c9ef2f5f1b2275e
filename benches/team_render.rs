//! Team report speed: 40 people × 500 classified items rendered to HTML, on one core.
//!
//! Run with `cargo bench --bench team_render`. Prints the time of the render (view model,
//! heatmap, top evidence and template), the ratio to the one-second target and, measured in the
//! same run, the time of a baseline that only serialises the same snapshot to JSON, so the ratio
//! holds on a noisy machine. A second line renders the same team compared with a previous quarter.

use std::hint::black_box;
use std::time::{Duration, Instant};

use gl_evidence::classify::{classify, RuleSet};
use gl_evidence::framework::Framework;
use gl_evidence::model::{Snapshot, Subject};
use gl_evidence::report::{Format, RenderOptions, Renderer, ReportKind};

const PEOPLE: usize = 40;
const ITEMS_PER_PERSON: usize = 500;
const TARGET: Duration = Duration::from_secs(1);
/// Best of a few runs, so one scheduling hiccup does not decide the figure.
const RUNS: usize = 3;

/// A team of `PEOPLE`, each with `ITEMS_PER_PERSON` items drawn in turn from the bundled sample
/// team and demo quarter (so kinds, labels and texts are realistic), classified with the
/// built-in rules.
fn team(framework: &Framework, rules: &RuleSet) -> Snapshot {
    let sample = Snapshot::from_json(
        include_str!("../data/demo/team-snapshot.json"),
        "team sample",
    )
    .expect("team sample parses");
    let demo = Snapshot::from_json(include_str!("../data/demo/snapshot.json"), "demo")
        .expect("demo parses");
    let pool: Vec<_> = sample.items.iter().chain(&demo.items).collect();
    let mut snapshot = sample.clone();
    snapshot.subjects = (0..PEOPLE)
        .map(|p| Subject {
            username: format!("person.{p:02}"),
            name: Some(format!("Person {p:02}")),
            id: Some(p as u64 + 1),
        })
        .collect();
    snapshot.sources.clear();
    snapshot.items = (0..PEOPLE * ITEMS_PER_PERSON)
        .map(|n| {
            let person = n / ITEMS_PER_PERSON;
            // Offset per person so that people differ in what they did.
            let mut item = pool[(n + person * 7) % pool.len()].clone();
            item.subject = format!("person.{person:02}");
            item.id = format!("{}-{n}", item.id);
            item.title = format!("{} #{n}", item.title);
            item
        })
        .collect();
    classify(&mut snapshot, framework, rules).expect("built-in rules validate");
    snapshot
}

fn best_of<T>(mut run: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let value = black_box(run());
        best = best.min(started.elapsed());
        last = Some(value);
    }
    (best, last.expect("RUNS > 0"))
}

fn main() {
    let framework = Framework::builtin();
    let rules = RuleSet::builtin();
    let snapshot = team(&framework, &rules);
    let mut previous = snapshot.clone();
    // The quarter before: every third item missing, so the comparison has something to say.
    let mut n = 0;
    previous.items.retain(|_| {
        n += 1;
        n % 3 != 0
    });
    let renderer = Renderer::new(None, None).expect("built-in templates parse");
    let team_defaults = RenderOptions::for_audience(ReportKind::Team);
    let comparing = RenderOptions {
        compare: Some(previous),
        ..team_defaults.clone()
    };
    let matched = snapshot
        .items
        .iter()
        .filter(|i| !i.competencies.is_empty())
        .count();

    let (baseline, json) = best_of(|| snapshot.to_json());
    let render = |options: &RenderOptions| {
        renderer
            .render_with(
                ReportKind::Team,
                Format::Html,
                &snapshot,
                &framework,
                options,
            )
            .expect("team html renders")
    };
    let (elapsed, html) = best_of(|| render(&team_defaults));
    let (compared, compared_html) = best_of(|| render(&comparing));

    println!(
        "team_render: {PEOPLE} people × {ITEMS_PER_PERSON} items ({matched} classified with a competency), {} competencies; best of {RUNS}",
        framework.competencies.len()
    );
    let line = |label: &str, time: Duration, bytes: usize| {
        println!(
            "  {label:<26}{:>8.3} s  ({:.1} MB){}",
            time.as_secs_f64(),
            bytes as f64 / 1e6,
            if label.starts_with("baseline") {
                String::new()
            } else {
                format!(
                    "  ratio to 1 s target: {:.2} ({})",
                    time.as_secs_f64() / TARGET.as_secs_f64(),
                    if time <= TARGET {
                        "within target"
                    } else {
                        "OVER TARGET"
                    }
                )
            }
        );
    };
    line("html render:", elapsed, html.len());
    line("html render, --compare:", compared, compared_html.len());
    line("baseline (snapshot json):", baseline, json.len());
    println!(
        "  ratio to baseline:        {:>8.1}x",
        elapsed.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
    );
}
