//! GitLab's query complexity, as `Types::BaseField` scores a query before running it, for
//! [`GraphqlFault::ComplexityLimit`](super::GraphqlFault::ComplexityLimit). The score depends on
//! the document and the variables only, never on the data:
//!
//! - a field without arguments costs 1 plus what it selects;
//! - a field with arguments is resolved by a resolver: what it selects plus 1; a connection (a
//!   field selecting `nodes` or `edges`) then adds that cost × its page (`first`, at most 100,
//!   100 when not given) × the resolver's multiplier — 0.01 (`BaseResolver`), 0.005 for on-call
//!   `shifts` (`OncallShiftsResolver`), 0 when the field picks records by `id`, `iid` or `iids` —
//!   rounded down at each field, as GitLab's `.to_i` does;
//! - a field switched off by `@include`/`@skip` costs nothing (graphql-ruby's analyzer skips it),
//!   and a fragment costs what its fields cost wherever it is spread.
//!
//! GitLab adds a little for fields that call Gitaly and for `sort`/`search` arguments; none of
//! the project's queries has those, so they are left out. The limit for an authenticated user is
//! 250 ([`GITLAB_COMPLEXITY_LIMIT`]).
//!
//! This file stands alone (it needs `graphql-parser` and `serde_json` only): the harvest's unit
//! tests include it to check their own model of the OncallShifts score against it
//! (`src/harvest/oncall/sizing.rs`).

use std::collections::BTreeMap;

use graphql_parser::query as q;
use serde_json::Value;

/// `GitlabSchema::AUTHENTICATED_MAX_COMPLEXITY`.
pub const GITLAB_COMPLEXITY_LIMIT: u32 = 250;

/// The complexity of the operation `operation` of `query` with `variables`.
pub fn complexity_score(
    query: &str,
    operation: Option<&str>,
    variables: &Value,
) -> Result<u32, String> {
    let doc = q::parse_query::<String>(query).map_err(|e| format!("Parse error: {e}"))?;
    document_score(&doc, operation, variables)
}

/// [`complexity_score`] of a parsed document (parsing is most of the work).
pub fn document_score(
    doc: &q::Document<'_, String>,
    operation: Option<&str>,
    variables: &Value,
) -> Result<u32, String> {
    let mut fragments = BTreeMap::new();
    let mut operations = Vec::new();
    for definition in &doc.definitions {
        match definition {
            q::Definition::Fragment(f) => {
                fragments.insert(f.name.clone(), &f.selection_set);
            }
            q::Definition::Operation(q::OperationDefinition::Query(op)) => {
                operations.push((op.name.clone(), &op.selection_set));
            }
            q::Definition::Operation(q::OperationDefinition::SelectionSet(set)) => {
                operations.push((None, set));
            }
            q::Definition::Operation(_) => return Err("queries only".into()),
        }
    }
    let chosen = match operation {
        Some(name) => operations.iter().find(|(n, _)| n.as_deref() == Some(name)),
        None if operations.len() == 1 => operations.first(),
        None => None,
    };
    let Some((_, selection)) = chosen else {
        return Err(format!("No operation named {operation:?}"));
    };
    let scoring = Scoring {
        fragments: &fragments,
        variables,
    };
    Ok(scoring.selection(selection).floor() as u32)
}

struct Scoring<'a, 'q> {
    fragments: &'a BTreeMap<String, &'a q::SelectionSet<'q, String>>,
    variables: &'a Value,
}

impl Scoring<'_, '_> {
    fn selection(&self, set: &q::SelectionSet<'_, String>) -> f64 {
        set.items
            .iter()
            .map(|item| match item {
                q::Selection::Field(field) if self.wanted(&field.directives) => self.field(field),
                q::Selection::Field(_) => 0.0,
                q::Selection::FragmentSpread(spread) if self.wanted(&spread.directives) => self
                    .fragments
                    .get(&spread.fragment_name)
                    .map_or(0.0, |set| self.selection(set)),
                q::Selection::FragmentSpread(_) => 0.0,
                q::Selection::InlineFragment(inline) if self.wanted(&inline.directives) => {
                    self.selection(&inline.selection_set)
                }
                q::Selection::InlineFragment(_) => 0.0,
            })
            .sum()
    }

    fn field(&self, field: &q::Field<'_, String>) -> f64 {
        let children = self.selection(&field.selection_set);
        if field.arguments.is_empty() {
            return 1.0 + children;
        }
        let cost = children + 1.0;
        let by_id = field
            .arguments
            .iter()
            .any(|(name, _)| matches!(name.as_str(), "id" | "iid" | "iids"));
        let multiplier = if !self.is_connection(&field.selection_set) || by_id {
            0.0
        } else if field.name == "shifts" {
            0.005
        } else {
            0.01
        };
        let page = field
            .arguments
            .iter()
            .find(|(name, _)| name == "first")
            .and_then(|(_, value)| self.int(value))
            .map_or(100.0, |first| first.clamp(0, 100) as f64);
        (cost + cost * page * multiplier).floor()
    }

    /// A connection selects its `nodes` or `edges` (directly or through a fragment).
    fn is_connection(&self, set: &q::SelectionSet<'_, String>) -> bool {
        set.items.iter().any(|item| match item {
            q::Selection::Field(f) => f.name == "nodes" || f.name == "edges",
            q::Selection::FragmentSpread(spread) => self
                .fragments
                .get(&spread.fragment_name)
                .is_some_and(|set| self.is_connection(set)),
            q::Selection::InlineFragment(inline) => self.is_connection(&inline.selection_set),
        })
    }

    fn int(&self, value: &q::Value<'_, String>) -> Option<i64> {
        match value {
            q::Value::Int(n) => n.as_i64(),
            q::Value::Variable(name) => self.variables.get(name).and_then(Value::as_i64),
            _ => None,
        }
    }

    fn wanted(&self, directives: &[q::Directive<'_, String>]) -> bool {
        included(directives, self.variables)
    }
}

/// `@include(if:)` and `@skip(if:)`, with a literal or a variable, as GraphQL executes them.
pub fn included(
    directives: &[graphql_parser::query::Directive<'_, String>],
    variables: &Value,
) -> bool {
    use graphql_parser::query as q;
    directives.iter().all(|d| {
        let condition = d
            .arguments
            .iter()
            .find(|(name, _)| name == "if")
            .map(|(_, v)| match v {
                q::Value::Boolean(b) => *b,
                q::Value::Variable(name) => {
                    variables.get(name).and_then(Value::as_bool) == Some(true)
                }
                _ => false,
            });
        match (d.name.as_str(), condition) {
            ("include", Some(c)) => c,
            ("skip", Some(c)) => !c,
            _ => true,
        }
    })
}
