//! CSV outputs: the team report as one row per person × competency, the brag document as one
//! row per item. RFC 4180 (CRLF line ends, quoted where needed) and safe to open in a
//! spreadsheet: every text cell goes through [`csv_field`].

use std::fmt::Write as _;

use super::helpers::csv_field;
use super::team_view::TeamView;
use super::view::{display_name, item_view, subjects, Scope, UNKNOWN_AREA};
use crate::classify::Strength;

/// `username,name,area,competency,title,strength,items,score_total,hidden_confidential`, plus
/// `previous_strength` when comparing. Every framework competency gets a row for every person
/// (strength `none`, 0 items, when there is no evidence), then any competency the framework does
/// not know. People who only appear in the previous snapshot get rows with empty current values.
pub(super) fn team(view: &TeamView) -> String {
    let comparing = view.compare.is_some();
    let mut out = String::new();
    out.push_str(
        "username,name,area,competency,title,strength,items,score_total,hidden_confidential",
    );
    if comparing {
        out.push_str(",previous_strength");
    }
    out.push_str("\r\n");

    for person in &view.people {
        let p = &person.person;
        let name = p.name.as_deref().unwrap_or("");
        for cell in &person.cells {
            row(
                &mut out,
                [&p.username, name, &cell.area, &cell.id, &cell.title],
                Some((cell.strength, cell.count, cell.score_total)),
                p.hidden_confidential,
                comparing.then(|| cell.previous_strength.unwrap_or(Strength::None)),
            );
        }
        for c in person
            .competencies
            .iter()
            .filter(|c| c.area == UNKNOWN_AREA)
        {
            row(
                &mut out,
                [&p.username, name, &c.area, &c.id, &c.title],
                Some((c.strength, c.count, c.score_total)),
                p.hidden_confidential,
                comparing.then_some(Strength::None),
            );
        }
    }

    if let Some(compare) = &view.compare {
        for change in compare.people.iter().filter(|c| c.has_left) {
            for area in &view.areas {
                for column in &area.competencies {
                    let then = change
                        .previous
                        .get(&column.id)
                        .map_or(Strength::None, |s| s.strength);
                    row(
                        &mut out,
                        [
                            &change.username,
                            &change.display_name,
                            &area.id,
                            &column.id,
                            &column.title,
                        ],
                        None,
                        0,
                        Some(then),
                    );
                }
            }
        }
    }
    out
}

fn row(
    out: &mut String,
    text: [&str; 5],
    now: Option<(Strength, usize, f64)>,
    hidden: usize,
    previous: Option<Strength>,
) {
    for cell in text {
        out.push_str(&csv_field(cell));
        out.push(',');
    }
    match now {
        Some((strength, items, score)) => {
            let _ = write!(out, "{strength},{items},{score:.2},{hidden}");
        }
        None => out.push_str(",,,"),
    }
    if let Some(previous) = previous {
        let _ = write!(out, ",{previous}");
    }
    out.push_str("\r\n");
}

/// `username,name,date,kind,role,title,url,project,confidential,competencies,best_score,
/// highlight,note`: one row per item shown (items hidden in the curation file are not),
/// competency ids space-separated, best first; `highlight` and `note` from the curation file.
pub(super) fn brag(scope: &Scope<'_>) -> String {
    let mut out = String::from(
        "username,name,date,kind,role,title,url,project,confidential,competencies,best_score,highlight,note\r\n",
    );
    for (username, name) in subjects(scope.snapshot) {
        let name = display_name(&username, name.as_deref());
        for item in scope.items_of(&username) {
            let view = item_view(item);
            let mut matches: Vec<_> = item.competencies.iter().collect();
            matches.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
            let mut seen = std::collections::BTreeSet::new();
            matches.retain(|m| seen.insert(m.id.as_str()));
            let ids: Vec<&str> = matches.iter().map(|m| m.id.as_str()).collect();
            for text in [
                username.as_str(),
                &name,
                view.date.as_deref().unwrap_or(""),
                item.kind.as_str(),
                item.role.as_str(),
                &item.title,
                &item.web_url,
                view.project.as_deref().unwrap_or(""),
            ] {
                out.push_str(&csv_field(text));
                out.push(',');
            }
            out.push_str(if item.confidential { "true" } else { "false" });
            out.push(',');
            out.push_str(&csv_field(&ids.join(" ")));
            out.push(',');
            if let Some(best) = matches.first() {
                let _ = write!(out, "{:.2}", best.score);
            }
            out.push_str(if view.highlight { ",true," } else { ",false," });
            out.push_str(&csv_field(view.note.as_deref().unwrap_or("")));
            out.push_str("\r\n");
        }
    }
    out
}
