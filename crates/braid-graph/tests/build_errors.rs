//! Every `GraphError` names the file to fix and says what to do.

mod common;
use braid_graph::{Graph, GraphError, Revision};
use common::*;

fn at(rev: Revision, file: &str) -> Revision {
    let mut rev = rev;
    rev.origin = Some(format!("migrations/{file}/meta.toml").into());
    rev
}

fn err(revs: Vec<Revision>) -> (GraphError, String) {
    let e = Graph::build(revs).unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

#[test]
fn invalid_id_names_file() {
    let (e, msg) = err(vec![at(r("a-b", &[]), "0001_a")]);
    assert!(matches!(e, GraphError::InvalidId { .. }), "{e:?}");
    assert!(
        msg.starts_with("migrations/0001_a/meta.toml: invalid revision id 'a-b'"),
        "{msg}"
    );
    assert!(msg.contains("'-'"), "{msg}");
}

#[test]
fn invalid_label_names_file() {
    let (e, msg) = err(vec![at(r("a", &[]).with_labels(&["head"]), "0001_a")]);
    assert!(matches!(e, GraphError::InvalidLabel { .. }), "{e:?}");
    assert!(
        msg.contains("migrations/0001_a/meta.toml") && msg.contains("reserved"),
        "{msg}"
    );
}

#[test]
fn duplicate_id_names_both_files() {
    let (e, msg) = err(vec![at(r("a", &[]), "one"), at(r("a", &[]), "two")]);
    assert!(matches!(e, GraphError::DuplicateId { .. }), "{e:?}");
    assert!(
        msg.contains("migrations/one/meta.toml") && msg.contains("migrations/two/meta.toml"),
        "{msg}"
    );
}

#[test]
fn missing_parent_names_file_and_suggests() {
    let (e, msg) = err(vec![
        at(r("abc123", &[]), "one"),
        at(r("b", &["abc124"]), "two"),
    ]);
    assert!(
        matches!(&e, GraphError::MissingParent { parent, suggestions, .. }
            if parent == "abc124" && suggestions == &strs(&["abc123"])),
        "{e:?}"
    );
    assert!(msg.starts_with("migrations/two/meta.toml:"), "{msg}");
    assert!(msg.contains("did you mean 'abc123'?"), "{msg}");
}

#[test]
fn repeated_parent_names_file() {
    let (e, msg) = err(vec![r("a", &[]), at(r("b", &["a", "a"]), "two")]);
    assert!(matches!(e, GraphError::RepeatedParent { .. }), "{e:?}");
    assert!(msg.starts_with("migrations/two/meta.toml:"), "{msg}");
}

#[test]
fn missing_dependency_names_file() {
    let (e, msg) = err(vec![
        r("a", &[]).with_labels(&["shopping"]),
        at(r("b", &[]).with_depends_on(&["shoping"]), "two"),
    ]);
    assert!(matches!(e, GraphError::MissingDependency { .. }), "{e:?}");
    assert!(msg.starts_with("migrations/two/meta.toml:"), "{msg}");
    assert!(msg.contains("did you mean 'shopping'?"), "{msg}");
}

#[test]
fn self_loop_names_file() {
    let (e, msg) = err(vec![at(r("a", &["a"]), "one")]);
    assert!(matches!(e, GraphError::SelfLoop { .. }), "{e:?}");
    assert!(
        msg.starts_with("migrations/one/meta.toml:") && msg.contains("parent"),
        "{msg}"
    );
}

#[test]
fn cycle_names_every_file_in_order() {
    let (e, msg) = err(vec![
        at(r("a", &["c"]), "a"),
        at(r("b", &["a"]), "b"),
        at(r("c", &["b"]), "c"),
        at(r("d", &["c"]), "d"),
    ]);
    assert!(matches!(e, GraphError::Cycle { .. }), "{e:?}");
    assert!(msg.contains("a -> b -> c -> a"), "{msg}");
    assert!(
        msg.contains("migrations/a/meta.toml, migrations/b/meta.toml, migrations/c/meta.toml"),
        "{msg}"
    );
    assert!(
        !msg.contains("migrations/d/"),
        "d only sits above the cycle: {msg}"
    );
}

#[test]
fn duplicate_label_names_both_files() {
    let (e, msg) = err(vec![
        at(r("a", &[]).with_labels(&["x"]), "one"),
        at(r("b", &["a"]).with_labels(&["x"]), "two"),
    ]);
    assert!(matches!(e, GraphError::DuplicateLabel { .. }), "{e:?}");
    assert!(
        msg.contains("migrations/one/meta.toml") && msg.contains("migrations/two/meta.toml"),
        "{msg}"
    );
}

#[test]
fn label_equal_to_id_names_both_files() {
    let (e, msg) = err(vec![
        at(r("a", &[]), "one"),
        at(r("b", &["a"]).with_labels(&["a"]), "two"),
    ]);
    assert!(matches!(e, GraphError::LabelIsId { .. }), "{e:?}");
    assert!(
        msg.starts_with("migrations/two/meta.toml:") && msg.contains("migrations/one/meta.toml"),
        "{msg}"
    );
}

#[test]
fn in_memory_revisions_are_named_by_id() {
    let (_, msg) = err(vec![r("a", &["zz"])]);
    assert!(msg.starts_with("revision a:"), "{msg}");
}

#[test]
fn validate_id_rules() {
    use braid_graph::validate_id;
    assert!(validate_id("a1_B").is_ok());
    assert!(validate_id(&"x".repeat(64)).is_ok());
    assert!(validate_id(&"x".repeat(65)).unwrap_err().contains("64"));
    assert!(validate_id("").unwrap_err().contains("empty"));
    for bad in ["a-b", "a@b", "a+b", "a:b", "a b", "é", "a.b", "a/b"] {
        assert!(validate_id(bad).is_err(), "{bad}");
    }
    for reserved in ["head", "heads", "base", "current"] {
        assert!(
            validate_id(reserved).unwrap_err().contains("reserved"),
            "{reserved}"
        );
    }
    // Reserved words only match whole ids.
    assert!(validate_id("heads_up").is_ok());
}

#[test]
fn duplicates_are_found_before_edges() {
    // Several problems: the duplicate id (checked first) is reported.
    let (e, _) = err(vec![r("a", &["missing"]), r("a", &[])]);
    assert!(matches!(e, GraphError::DuplicateId { .. }), "{e:?}");
}
