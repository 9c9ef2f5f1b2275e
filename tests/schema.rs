//! Keeps the GraphQL documents in `queries/` honest against GitLab's real schema.
//!
//! The project carries only the subset of GitLab's schema its queries use
//! (`queries/schema.graphql`); graphql_client checks the queries against that subset at compile
//! time, so a subset that drifted from GitLab would let a query compile that a real server
//! rejects. Three checks, from always-on to best-effort:
//!
//! 1. always: every query document parses and every field, argument and fragment it uses exists
//!    in the subset (walking selections with the type the subset gives them);
//! 2. when `../shared/gitlab/gitlab_schema.graphql` exists: every type, field, argument, enum value,
//!    interface and union member of the subset exists in GitLab's full schema with the same kind
//!    and type (`[ID!]` is not `[ID]`), and the queries validate against the full schema too;
//! 3. when `../shared/gitlab/gitlab_schema_ce.graphql` exists: the same comparison against a
//!    Community Edition server's schema, printed (never failed) so we know what CE lacks.
//!
//! The comparison and the walk are plain functions over a small schema model, unit-tested below
//! against deliberately broken in-memory schemas so we know they can fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use graphql_parser::query as q;
use graphql_parser::schema as s;

/// The kinds of named types GraphQL SDL can define.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "a scalar",
            Kind::Object => "an object type",
            Kind::Interface => "an interface",
            Kind::Union => "a union",
            Kind::Enum => "an enum",
            Kind::InputObject => "an input object",
        }
    }

    /// Types a selection set can be written on.
    fn is_composite(self) -> bool {
        matches!(self, Kind::Object | Kind::Interface | Kind::Union)
    }

    /// Types a variable or argument may have.
    fn is_input(self) -> bool {
        matches!(self, Kind::Scalar | Kind::Enum | Kind::InputObject)
    }
}

/// An argument of a field, or a field of an input object.
#[derive(Debug, Clone)]
struct InputDef {
    ty: String,
    has_default: bool,
}

impl InputDef {
    /// A non-null argument without a default must be given by every query using the field.
    fn is_required(&self) -> bool {
        self.ty.ends_with('!') && !self.has_default
    }
}

#[derive(Debug, Clone)]
struct FieldDef {
    ty: String,
    args: BTreeMap<String, InputDef>,
    /// The `@deprecated(reason:)` text, when the schema deprecates the field.
    deprecated: Option<String>,
}

#[derive(Debug, Clone)]
struct TypeDef {
    kind: Kind,
    /// Fields of objects and interfaces.
    fields: BTreeMap<String, FieldDef>,
    /// Fields of input objects.
    input_fields: BTreeMap<String, InputDef>,
    interfaces: BTreeSet<String>,
    members: BTreeSet<String>,
    values: BTreeSet<String>,
}

impl TypeDef {
    fn new(kind: Kind) -> Self {
        TypeDef {
            kind,
            fields: BTreeMap::new(),
            input_fields: BTreeMap::new(),
            interfaces: BTreeSet::new(),
            members: BTreeSet::new(),
            values: BTreeSet::new(),
        }
    }
}

/// The parts of a schema the checks need, keyed by name.
#[derive(Debug, Clone)]
struct Schema {
    origin: String,
    query_type: String,
    types: BTreeMap<String, TypeDef>,
}

const BUILTIN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];

fn type_string(ty: &s::Type<'_, String>) -> String {
    match ty {
        s::Type::NamedType(name) => name.clone(),
        s::Type::ListType(inner) => format!("[{}]", type_string(inner)),
        s::Type::NonNullType(inner) => format!("{}!", type_string(inner)),
    }
}

/// `[ID!]!` → `ID`.
fn named_type(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

fn input_defs(values: &[s::InputValue<'_, String>]) -> BTreeMap<String, InputDef> {
    values
        .iter()
        .map(|v| {
            let def = InputDef {
                ty: type_string(&v.value_type),
                has_default: v.default_value.is_some(),
            };
            (v.name.clone(), def)
        })
        .collect()
}

fn field_defs(fields: &[s::Field<'_, String>]) -> BTreeMap<String, FieldDef> {
    fields
        .iter()
        .map(|f| {
            let deprecated = f
                .directives
                .iter()
                .find(|d| d.name == "deprecated")
                .map(|d| {
                    d.arguments
                        .iter()
                        .find(|(name, _)| name == "reason")
                        .map(|(_, reason)| match reason {
                            s::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        })
                        .unwrap_or_else(|| "No longer supported".to_string())
                });
            let def = FieldDef {
                ty: type_string(&f.field_type),
                args: input_defs(&f.arguments),
                deprecated,
            };
            (f.name.clone(), def)
        })
        .collect()
}

impl Schema {
    fn parse(text: &str, origin: &str) -> Result<Schema, String> {
        let doc = s::parse_schema::<String>(text)
            .map_err(|e| format!("{origin} does not parse as GraphQL SDL: {e}"))?;
        let mut schema = Schema {
            origin: origin.to_string(),
            query_type: "Query".to_string(),
            types: BTreeMap::new(),
        };
        for definition in &doc.definitions {
            let (name, def) = match definition {
                s::Definition::SchemaDefinition(root) => {
                    if let Some(query) = &root.query {
                        schema.query_type = query.clone();
                    }
                    continue;
                }
                s::Definition::DirectiveDefinition(_) => continue,
                s::Definition::TypeExtension(_) => {
                    return Err(format!(
                        "{origin}: `extend` definitions are not supported by this check"
                    ))
                }
                s::Definition::TypeDefinition(t) => match t {
                    s::TypeDefinition::Scalar(t) => (t.name.clone(), TypeDef::new(Kind::Scalar)),
                    s::TypeDefinition::Object(t) => {
                        let mut def = TypeDef::new(Kind::Object);
                        def.fields = field_defs(&t.fields);
                        def.interfaces = t.implements_interfaces.iter().cloned().collect();
                        (t.name.clone(), def)
                    }
                    s::TypeDefinition::Interface(t) => {
                        let mut def = TypeDef::new(Kind::Interface);
                        def.fields = field_defs(&t.fields);
                        def.interfaces = t.implements_interfaces.iter().cloned().collect();
                        (t.name.clone(), def)
                    }
                    s::TypeDefinition::Union(t) => {
                        let mut def = TypeDef::new(Kind::Union);
                        def.members = t.types.iter().cloned().collect();
                        (t.name.clone(), def)
                    }
                    s::TypeDefinition::Enum(t) => {
                        let mut def = TypeDef::new(Kind::Enum);
                        def.values = t.values.iter().map(|v| v.name.clone()).collect();
                        (t.name.clone(), def)
                    }
                    s::TypeDefinition::InputObject(t) => {
                        let mut def = TypeDef::new(Kind::InputObject);
                        def.input_fields = input_defs(&t.fields);
                        (t.name.clone(), def)
                    }
                },
            };
            if schema.types.insert(name.clone(), def).is_some() {
                return Err(format!("{origin}: type `{name}` is defined twice"));
            }
        }
        Ok(schema)
    }

    /// The kind of a named type, counting the built-in scalars SDL never spells out.
    fn kind_of(&self, name: &str) -> Option<Kind> {
        match self.types.get(name) {
            Some(def) => Some(def.kind),
            None if BUILTIN_SCALARS.contains(&name) => Some(Kind::Scalar),
            None => None,
        }
    }
}

/// Every name the subset uses is defined in it (or is a built-in scalar), so the subset is a
/// schema on its own, as graphql_client needs.
fn check_self_contained(schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    if schema.kind_of(&schema.query_type) != Some(Kind::Object) {
        problems.push(format!(
            "{}: query root `{}` is not an object type",
            schema.origin, schema.query_type
        ));
    }
    let mut need = |what: String, ty: &str, input: Option<bool>| {
        let name = named_type(ty);
        match schema.kind_of(name) {
            None => problems.push(format!(
                "{what} refers to `{name}`, which {} does not define",
                schema.origin
            )),
            Some(kind) if input == Some(true) && !kind.is_input() => problems.push(format!(
                "{what} has type `{ty}`, but `{name}` is {}, not an input type",
                kind.name()
            )),
            Some(kind) if input == Some(false) && kind == Kind::InputObject => problems.push(
                format!("{what} has type `{ty}`, but `{name}` is an input object"),
            ),
            Some(_) => {}
        }
    };
    for (type_name, def) in &schema.types {
        for (field_name, field) in &def.fields {
            need(
                format!("field `{type_name}.{field_name}`"),
                &field.ty,
                Some(false),
            );
            for (arg_name, arg) in &field.args {
                need(
                    format!("argument `{type_name}.{field_name}({arg_name}:)`"),
                    &arg.ty,
                    Some(true),
                );
            }
        }
        for (field_name, field) in &def.input_fields {
            need(
                format!("input field `{type_name}.{field_name}`"),
                &field.ty,
                Some(true),
            );
        }
        for name in def.interfaces.iter().chain(&def.members) {
            need(format!("type `{type_name}`"), name, None);
        }
    }
    problems
}

/// Everything in `subset` must exist in `full` with the same kind and type. Returns one line
/// per mismatch, naming the type, field or argument; empty means the subset is faithful.
fn compare_subset(subset: &Schema, full: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    let theirs = &full.origin;
    if subset.query_type != full.query_type {
        problems.push(format!(
            "the query root is `{}` in the subset but `{}` in {theirs}",
            subset.query_type, full.query_type
        ));
    }
    for (type_name, mine) in &subset.types {
        let Some(other) = full.types.get(type_name) else {
            problems.push(format!("type `{type_name}` does not exist in {theirs}"));
            continue;
        };
        if mine.kind != other.kind {
            problems.push(format!(
                "type `{type_name}` is {} in the subset but {} in {theirs}",
                mine.kind.name(),
                other.kind.name()
            ));
            continue;
        }
        for (field_name, field) in &mine.fields {
            let Some(real) = other.fields.get(field_name) else {
                problems.push(format!(
                    "field `{type_name}.{field_name}` does not exist in {theirs}"
                ));
                continue;
            };
            if field.ty != real.ty {
                problems.push(format!(
                    "field `{type_name}.{field_name}` has type `{}` in the subset but `{}` in {theirs}",
                    field.ty, real.ty
                ));
            }
            compare_inputs(
                &format!("argument `{type_name}.{field_name}(NAME:)`"),
                &field.args,
                &real.args,
                theirs,
                &mut problems,
            );
        }
        compare_inputs(
            &format!("input field `{type_name}.NAME`"),
            &mine.input_fields,
            &other.input_fields,
            theirs,
            &mut problems,
        );
        for (what, mine_set, their_set) in [
            ("interface", &mine.interfaces, &other.interfaces),
            ("member", &mine.members, &other.members),
            ("value", &mine.values, &other.values),
        ] {
            for name in mine_set.difference(their_set) {
                let relation = match what {
                    "interface" => format!("type `{type_name}` does not implement `{name}`"),
                    "member" => format!("union `{type_name}` has no member `{name}`"),
                    _ => format!("enum value `{type_name}.{name}` does not exist"),
                };
                problems.push(format!("{relation} in {theirs}"));
            }
        }
    }
    problems
}

/// `label` holds `NAME`, replaced by each argument's name in messages.
fn compare_inputs(
    label: &str,
    mine: &BTreeMap<String, InputDef>,
    real: &BTreeMap<String, InputDef>,
    theirs: &str,
    problems: &mut Vec<String>,
) {
    for (name, arg) in mine {
        let what = label.replace("NAME", name);
        match real.get(name) {
            None => problems.push(format!("{what} does not exist in {theirs}")),
            Some(r) if r.ty != arg.ty => problems.push(format!(
                "{what} has type `{}` in the subset but `{}` in {theirs}",
                arg.ty, r.ty
            )),
            Some(_) => {}
        }
    }
    // A query validated against the subset could leave out an argument the server requires.
    for (name, arg) in real {
        if arg.is_required() && !mine.contains_key(name) {
            let what = label.replace("NAME", name);
            problems.push(format!(
                "{what} is required (`{}`) in {theirs} but missing from the subset",
                arg.ty
            ));
        }
    }
}

/// Parses one query document and checks every selection against `schema`: fields and their
/// arguments exist, required arguments are given, composite fields have selections and leaves
/// have none, fragments exist and sit on composite types, variables have input types.
fn validate_query(schema: &Schema, text: &str, origin: &str) -> Vec<String> {
    let doc = match q::parse_query::<String>(text) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("{origin} does not parse: {e}")],
    };
    let fragments: BTreeMap<&str, &q::FragmentDefinition<'_, String>> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            q::Definition::Fragment(f) => Some((f.name.as_str(), f)),
            q::Definition::Operation(_) => None,
        })
        .collect();
    let mut walker = Walker {
        schema,
        fragments: &fragments,
        problems: Vec::new(),
        origin,
    };
    let mut operations = 0;
    for definition in &doc.definitions {
        let q::Definition::Operation(op) = definition else {
            continue;
        };
        operations += 1;
        let (name, variables, selection) = match op {
            q::OperationDefinition::Query(query) => (
                query.name.clone().unwrap_or_default(),
                &query.variable_definitions,
                &query.selection_set,
            ),
            q::OperationDefinition::SelectionSet(set) => (String::new(), &Vec::new(), set),
            _ => {
                walker.problems.push(format!(
                    "{origin}: only queries are expected; the subset has no mutation or subscription root"
                ));
                continue;
            }
        };
        for variable in variables {
            let ty = query_type_string(&variable.var_type);
            let named = named_type(&ty);
            match schema.kind_of(named) {
                Some(kind) if kind.is_input() => {}
                Some(kind) => walker.problems.push(format!(
                    "{origin}: variable `${}` of `{name}` has type `{ty}`, but `{named}` is {}",
                    variable.name,
                    kind.name()
                )),
                None => walker.problems.push(format!(
                    "{origin}: variable `${}` of `{name}` has type `{ty}`, unknown to {}",
                    variable.name, schema.origin
                )),
            }
        }
        let root = schema.query_type.clone();
        walker.walk(selection, &root, &mut Vec::new());
    }
    if operations == 0 {
        walker
            .problems
            .push(format!("{origin} defines no operation"));
    }
    walker.problems
}

fn query_type_string(ty: &q::Type<'_, String>) -> String {
    match ty {
        q::Type::NamedType(name) => name.clone(),
        q::Type::ListType(inner) => format!("[{}]", query_type_string(inner)),
        q::Type::NonNullType(inner) => format!("{}!", query_type_string(inner)),
    }
}

struct Walker<'s, 'd> {
    schema: &'s Schema,
    fragments: &'d BTreeMap<&'d str, &'d q::FragmentDefinition<'d, String>>,
    problems: Vec<String>,
    origin: &'d str,
}

impl Walker<'_, '_> {
    /// `stack` holds the fragments being expanded, to stop on a cycle.
    fn walk(&mut self, set: &q::SelectionSet<'_, String>, on: &str, stack: &mut Vec<String>) {
        let origin = self.origin;
        let theirs = self.schema.origin.clone();
        for selection in &set.items {
            match selection {
                q::Selection::Field(field) => {
                    if field.name == "__typename" {
                        continue;
                    }
                    let Some(def) = self.schema.types.get(on) else {
                        self.problems
                            .push(format!("{origin}: type `{on}` is not in {theirs}"));
                        continue;
                    };
                    let Some(field_def) = def.fields.get(&field.name) else {
                        self.problems.push(format!(
                            "{origin}: field `{on}.{}` does not exist in {theirs}",
                            field.name
                        ));
                        continue;
                    };
                    let given: BTreeSet<&str> =
                        field.arguments.iter().map(|(n, _)| n.as_str()).collect();
                    for name in &given {
                        if !field_def.args.contains_key(*name) {
                            self.problems.push(format!(
                                "{origin}: argument `{on}.{}({name}:)` does not exist in {theirs}",
                                field.name
                            ));
                        }
                    }
                    for (name, arg) in &field_def.args {
                        if arg.is_required() && !given.contains(name.as_str()) {
                            self.problems.push(format!(
                                "{origin}: `{on}.{}` needs argument `{name}: {}`",
                                field.name, arg.ty
                            ));
                        }
                    }
                    let target = named_type(&field_def.ty).to_string();
                    let composite = self.schema.kind_of(&target).is_some_and(Kind::is_composite);
                    let has_selection = !field.selection_set.items.is_empty();
                    if composite && !has_selection {
                        self.problems.push(format!(
                            "{origin}: field `{on}.{}` of type `{}` needs a selection set",
                            field.name, field_def.ty
                        ));
                    } else if !composite && has_selection {
                        self.problems.push(format!(
                            "{origin}: field `{on}.{}` of type `{}` cannot have a selection set",
                            field.name, field_def.ty
                        ));
                    } else if composite {
                        self.walk(&field.selection_set, &target, stack);
                    }
                }
                q::Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.clone();
                    let Some(fragment) = self.fragments.get(name.as_str()).copied() else {
                        self.problems
                            .push(format!("{origin}: fragment `{name}` is not defined"));
                        continue;
                    };
                    if stack.contains(&name) {
                        self.problems
                            .push(format!("{origin}: fragment `{name}` spreads itself"));
                        continue;
                    }
                    let q::TypeCondition::On(condition) = &fragment.type_condition;
                    if self.check_condition(condition, &format!("fragment `{name}`")) {
                        stack.push(name);
                        self.walk(&fragment.selection_set, condition, stack);
                        stack.pop();
                    }
                }
                q::Selection::InlineFragment(inline) => {
                    let condition = match &inline.type_condition {
                        Some(q::TypeCondition::On(c)) => c.clone(),
                        None => on.to_string(),
                    };
                    if self.check_condition(&condition, "an inline fragment") {
                        self.walk(&inline.selection_set, &condition, stack);
                    }
                }
            }
        }
    }

    fn check_condition(&mut self, condition: &str, what: &str) -> bool {
        match self.schema.kind_of(condition) {
            Some(kind) if kind.is_composite() => true,
            Some(kind) => {
                self.problems.push(format!(
                    "{}: {what} is on `{condition}`, {}",
                    self.origin,
                    kind.name()
                ));
                false
            }
            None => {
                self.problems.push(format!(
                    "{}: {what} is on `{condition}`, which {} does not define",
                    self.origin, self.schema.origin
                ));
                false
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checks on the project's files.

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn subset() -> &'static Schema {
    static SUBSET: OnceLock<Schema> = OnceLock::new();
    SUBSET.get_or_init(|| {
        let path = manifest_dir().join("queries/schema.graphql");
        Schema::parse(&read(&path), "queries/schema.graphql").unwrap_or_else(|e| panic!("{e}"))
    })
}

/// `queries/*.graphql` other than the schema, as (file name, text), sorted by name.
fn query_documents() -> Vec<(String, String)> {
    let dir = manifest_dir().join("queries");
    let mut docs: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .filter(|p| p.file_name().is_some_and(|n| n != "schema.graphql"))
        .map(|p| {
            let name = format!("queries/{}", p.file_name().unwrap().to_string_lossy());
            (name, read(&p))
        })
        .collect();
    docs.sort();
    docs
}

/// A reference schema from `../shared/gitlab/`, parsed once per run, or `None` (with a note)
/// when it is absent.
fn shared_schema(file: &'static str) -> Option<&'static Schema> {
    static FULL: OnceLock<Option<Schema>> = OnceLock::new();
    static CE: OnceLock<Option<Schema>> = OnceLock::new();
    let cell = match file {
        "gitlab_schema.graphql" => &FULL,
        "gitlab_schema_ce.graphql" => &CE,
        other => panic!("unexpected reference schema {other}"),
    };
    let schema = cell.get_or_init(|| {
        let path = manifest_dir().join("../shared/gitlab").join(file);
        if !path.exists() {
            return None;
        }
        Some(Schema::parse(&read(&path), file).unwrap_or_else(|e| panic!("{e}")))
    });
    if schema.is_none() {
        eprintln!(
            "note: ../shared/gitlab/{file} is absent; skipping the comparison with GitLab's schema"
        );
    }
    schema.as_ref()
}

/// Fields of the subset that `full` marks deprecated, with GitLab's reason.
fn deprecated_uses(subset: &Schema, full: &Schema) -> Vec<String> {
    let mut uses = Vec::new();
    for (type_name, def) in &subset.types {
        for field_name in def.fields.keys() {
            let reason = full
                .types
                .get(type_name)
                .and_then(|t| t.fields.get(field_name))
                .and_then(|f| f.deprecated.as_ref());
            if let Some(reason) = reason {
                uses.push(format!("`{type_name}.{field_name}`: {reason}"));
            }
        }
    }
    uses
}

fn fail_with(problems: &[String], what: &str) {
    assert!(
        problems.is_empty(),
        "{what}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn subset_is_self_contained() {
    fail_with(
        &check_self_contained(subset()),
        "queries/schema.graphql is not a schema on its own",
    );
}

#[test]
fn every_query_uses_only_the_subset() {
    let docs = query_documents();
    assert!(
        docs.len() >= 3,
        "expected the query documents in queries/, found {docs:?}"
    );
    let problems: Vec<String> = docs
        .iter()
        .flat_map(|(name, text)| validate_query(subset(), text, name))
        .collect();
    fail_with(
        &problems,
        "queries do not validate against queries/schema.graphql",
    );
}

#[test]
fn subset_matches_gitlab_full_schema() {
    let Some(full) = shared_schema("gitlab_schema.graphql") else {
        return;
    };
    let mut problems = compare_subset(subset(), full);
    // Belt and braces: the queries themselves, against the real thing.
    for (name, text) in query_documents() {
        problems.extend(validate_query(full, &text, &name));
    }
    fail_with(
        &problems,
        "queries/schema.graphql differs from GitLab's schema (../shared/gitlab/gitlab_schema.graphql)",
    );
    // Deprecated fields still work; GitLab removes them in a later major release.
    let deprecated = deprecated_uses(subset(), full);
    if !deprecated.is_empty() {
        eprintln!(
            "note: the queries use fields GitLab deprecates:\n  {}",
            deprecated.join("\n  ")
        );
    }
}

#[test]
fn enterprise_only_fields_are_reported_against_community_edition() {
    // `Issue.epic` (and `Epic`) exist on an EE server only: the CE comparison must say so,
    // and the deprecation note must see the field's deprecation.
    let (Some(full), Some(ce)) = (
        shared_schema("gitlab_schema.graphql"),
        shared_schema("gitlab_schema_ce.graphql"),
    ) else {
        return;
    };
    let subset = Schema::parse(
        "type Issue { iid: String! epic: Epic } type Epic { id: ID! }",
        "toy subset",
    )
    .unwrap();
    assert_eq!(compare_subset(&subset, full), Vec::<String>::new());
    let against_ce = compare_subset(&subset, ce);
    assert_reports(
        &against_ce,
        "field `Issue.epic` does not exist in gitlab_schema_ce.graphql",
    );
    assert_reports(
        &against_ce,
        "type `Epic` does not exist in gitlab_schema_ce.graphql",
    );
    assert_eq!(against_ce.len(), 2, "{against_ce:?}");
    let deprecated = deprecated_uses(&subset, full);
    assert_reports(&deprecated, "`Issue.epic`: Replaced by WorkItem type");
}

#[test]
fn report_what_community_edition_lacks() {
    let Some(ce) = shared_schema("gitlab_schema_ce.graphql") else {
        return;
    };
    let differences = compare_subset(subset(), ce);
    let mut per_query = Vec::new();
    for (name, text) in query_documents() {
        let problems = validate_query(ce, &text, &name);
        if !problems.is_empty() {
            per_query.push(format!(
                "{name} would be rejected:\n    {}",
                problems.join("\n    ")
            ));
        }
    }
    if differences.is_empty() && per_query.is_empty() {
        eprintln!("note: a GitLab 18.5 Community Edition server has everything our queries use");
    } else {
        eprintln!(
            "note: a GitLab 18.5 Community Edition server (gitlab_schema_ce.graphql) lacks what \
             follows; a CE or older server rejects those queries whole, so the client must say so:\n  {}\n  {}",
            differences.join("\n  "),
            per_query.join("\n  ")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The checks can fail: deliberately broken in-memory schemas and queries.

const TOY_FULL: &str = r#"
"""The root."""
type Query {
  user(id: ID, username: String): User
  projects(ids: [ID!], first: Int, after: String, sort: Sort = CREATED_ASC): ProjectConnection
  search(term: String!): [Hit]
}
scalar Time
interface Node { id: ID! }
type User implements Node { id: ID! username: String! createdAt: Time }
type ProjectConnection { nodes: [Project] }
type Project implements Node { id: ID! fullPath: ID! stars: Int! }
union Hit = User | Project
enum Sort { CREATED_ASC CREATED_DESC }
input Filter { name: String! tag: String }
"#;

fn toy_full() -> Schema {
    Schema::parse(TOY_FULL, "toy full schema").unwrap()
}

fn problems_for(subset_text: &str) -> Vec<String> {
    let subset = Schema::parse(subset_text, "toy subset").unwrap();
    compare_subset(&subset, &toy_full())
}

fn assert_reports(problems: &[String], expected: &str) {
    assert!(
        problems.iter().any(|p| p.contains(expected)),
        "expected a problem containing {expected:?}, got:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn a_faithful_subset_passes() {
    let problems = problems_for(
        r#"
        type Query { user(username: String): User projects(ids: [ID!], first: Int): ProjectConnection }
        type User implements Node { username: String! }
        interface Node { id: ID! }
        type ProjectConnection { nodes: [Project] }
        type Project { fullPath: ID! }
        enum Sort { CREATED_ASC }
        union Hit = User
        input Filter { name: String! }
        "#,
    );
    assert!(problems.is_empty(), "unexpected problems: {problems:?}");
}

#[test]
fn comparison_names_every_kind_of_mismatch() {
    let problems = problems_for(
        r#"
        type Query {
          user(username: ID): User
          projects(ids: [ID], first: Int, mine: Boolean): ProjectConnection
          search: [Hit]
        }
        type User { username: String createdAt: Time! nickname: String }
        type ProjectConnection { nodes: [Project!] }
        type Project implements Starred { fullPath: ID! }
        interface Starred { stars: Int }
        enum Sort { CREATED_ASC NEWEST }
        scalar Hit
        type Milestone { title: String! }
        input Filter { name: String }
        "#,
    );
    for expected in [
        "field `User.username` has type `String` in the subset but `String!`",
        "field `User.createdAt` has type `Time!` in the subset but `Time`",
        "field `User.nickname` does not exist",
        "field `ProjectConnection.nodes` has type `[Project!]` in the subset but `[Project]`",
        "argument `Query.user(username:)` has type `ID` in the subset but `String`",
        "argument `Query.projects(ids:)` has type `[ID]` in the subset but `[ID!]`",
        "argument `Query.projects(mine:)` does not exist",
        "argument `Query.search(term:)` is required (`String!`)",
        "type `Project` does not implement `Starred`",
        "type `Starred` does not exist",
        "enum value `Sort.NEWEST` does not exist",
        "type `Hit` is a scalar in the subset but a union",
        "type `Milestone` does not exist",
        "input field `Filter.name` has type `String` in the subset but `String!`",
    ] {
        assert_reports(&problems, expected);
    }
    assert!(
        problems
            .iter()
            .all(|p| p.ends_with("toy full schema") || p.contains("toy full schema")),
        "every problem names the schema compared with: {problems:?}"
    );
    // Only what is broken is reported: the default-valued `sort` argument may be left out.
    assert!(
        !problems.iter().any(|p| p.contains("(sort:)")),
        "an argument with a default is not required: {problems:?}"
    );
}

#[test]
fn self_containment_catches_dangling_names() {
    let subset = Schema::parse(
        "type Query { user: User projects(filter: Project): [Project] } type Project { id: ID! }",
        "toy subset",
    )
    .unwrap();
    let problems = check_self_contained(&subset);
    assert_reports(&problems, "field `Query.user` refers to `User`");
    assert_reports(
        &problems,
        "argument `Query.projects(filter:)` has type `Project`, but `Project` is an object type",
    );
}

#[test]
fn query_walk_names_unknown_fields_arguments_and_fragments() {
    let full = toy_full();
    let problems = validate_query(
        &full,
        r#"
        query Broken($term: String!, $f: Filter, $u: User) {
          user(username: "alice", nickname: "al") { ...UserBits }
          projects { nodes { fullPath stars { value } } }
          search(term: $term) { ... on Project { id } ... on Milestone { title } }
          hits: search { __typename }
        }
        fragment UserBits on User { username email ...Missing }
        "#,
        "broken.graphql",
    );
    for expected in [
        "argument `Query.user(nickname:)` does not exist",
        "field `User.email` does not exist",
        "fragment `Missing` is not defined",
        "field `Project.stars` of type `Int!` cannot have a selection set",
        "inline fragment is on `Milestone`, which toy full schema does not define",
        "`Query.search` needs argument `term: String!`",
        "variable `$u` of `Broken` has type `User`, but `User` is an object type",
    ] {
        assert_reports(&problems, expected);
    }
    let problems = validate_query(&full, "query { user { id } projects }", "leaf.graphql");
    assert_reports(
        &problems,
        "field `Query.projects` of type `ProjectConnection` needs a selection set",
    );
    let problems = validate_query(&full, "query { user { ", "cut.graphql");
    assert_reports(&problems, "cut.graphql does not parse");
}

#[test]
fn project_queries_fail_against_a_subset_missing_a_field() {
    // The real subset minus `MergeRequest.title`: the walk must name it for every query.
    let mut broken = subset().clone();
    broken.origin = "broken subset".to_string();
    let removed = broken
        .types
        .get_mut("MergeRequest")
        .and_then(|t| t.fields.remove("title"));
    assert!(
        removed.is_some(),
        "the subset is expected to declare MergeRequest.title"
    );
    for (name, query) in query_documents() {
        if query.contains("on MergeRequest") {
            let problems = validate_query(&broken, &query, &name);
            assert_reports(
                &problems,
                "field `MergeRequest.title` does not exist in broken subset",
            );
        }
    }
}
