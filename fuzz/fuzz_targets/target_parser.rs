//! Target expressions from users: parsing and resolving against a small branched graph must
//! never panic, whatever the input.
#![no_main]

use std::sync::OnceLock;

use braid_graph::{Applied, Graph, Revision, Target};
use libfuzzer_sys::fuzz_target;

fn graph() -> &'static Graph {
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        Graph::build(vec![
            Revision::new("a1", &[]),
            Revision::new("b2", &["a1"]),
            Revision::new("c3", &["b2"]).with_labels(&["left"]),
            Revision::new("c4", &["b2"]).with_labels(&["right"]),
            Revision::new("m5", &["c3", "c4"]),
            Revision::new("x6", &[]).with_depends_on(&["left"]),
        ])
        .expect("the fixture graph builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Target::parse(input);
    let g = graph();
    for applied in [
        Applied::new(),
        ["a1", "b2", "c3"].iter().map(|s| s.to_string()).collect(),
    ] {
        let _ = g.resolve(&applied, input);
        let _ = g.plan_upgrade(&applied, input);
        let _ = g.plan_downgrade(&applied, input);
        let _ = g.stamp(&applied, &[input], false);
        let _ = g.history(Some(input), &applied);
    }
});
