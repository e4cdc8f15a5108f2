//! Port of Alembic's `LargeMapTest` (`tests/_large_map.py`: 145 revisions, merge-heavy).

use braid_graph::{Applied, Graph, Revision};

#[rustfmt::skip]
const DATA: &[&[&str]] = &[
    &["3fc8a578bc0a", "4878cb1cb7f6", "454a0529f84e"],
    &["69285b0faaa", "36c31e4e1c37", "3a3b24a31b57"],
    &["3b0452c64639", "2f1a0f3667f3"],
    &["2d9d787a496", "135b5fd31062"],
    &["184f65ed83af", "3b0452c64639"],
    &["430074f99c29", "54f871bfe0b0"],
    &["3ffb59981d9a", "519c9f3ce294"],
    &["454a0529f84e", "40f6508e4373", "38a936c6ab11"],
    &["24c2620b2e3f", "430074f99c29", "1f5ceb1ec255"],
    &["169a948471a9", "247ad6880f93"],
    &["2f1a0f3667f3", "17dd0f165262"],
    &["27227dc4fda8", "2a66d7c4d8a1"],
    &["4b2ad1ffe2e7", "3b409f268da4", "4f8a9b79a063"],
    &["124ef6a17781", "2529684536da"],
    &["4789d9c82ca7", "593b8076fb2c"],
    &["64ed798bcc3", "44ed1bf512a0", "169a948471a9"],
    &["2588a3c36a0f", "50c7b21c9089"],
    &["359329c2ebb", "5810e9eff996", "339faa12616"],
    &["540bc5634bd", "3a5db5f31209"],
    &["20fe477817d2", "53d5ff905573"],
    &["4f8a9b79a063", "3cf34fcd6473", "300209d8594"],
    &["6918589deaf", "3314c17f6e35"],
    &["1755e3b1481c", "17b66754be21", "31b1d4b7fc95"],
    &["58c988e1aa4e", "219240032b88", "f067f0b825c"],
    &["593b8076fb2c", "1d94175d221b"],
    &["38d069994064", "46b70a57edc0", "3ed56beabfb7"],
    &["3e2f6c6d1182", "7f96a01461b"],
    &["1f6969597fe7", "1811bdae9e63"],
    &["17dd0f165262", "3cf02a593a68"],
    &["3cf02a593a68", "25a7ef58d293"],
    &["34dfac7edb2d", "28f4dd53ad3a"],
    &["4009c533e05d", "42ded7355da2"],
    &["5a0003c3b09c", "3ed56beabfb7", "2028d94d3863"],
    &["38a936c6ab11", "2588a3c36a0f"],
    &["59223c5b7b36", "2f93dd880bae"],
    &["4121bd6e99e9", "540bc5634bd"],
    &["260714a3f2de", "6918589deaf"],
    &["ae77a2ed69b", "274fd2642933"],
    &["18ff1ab3b4c4", "430133b6d46c"],
    &["2b9a327527a9", "359329c2ebb", "593b8076fb2c"],
    &["4e6167c75ed0", "325b273d61bd"],
    &["21ab11a7c5c4", "3da31f3323ec", "22f26011d635"],
    &["3b93e98481b1", "4e28e2f4fe2f"],
    &["145d8f1e334d", "b4143d129e"],
    &["135b5fd31062", "1d94175d221b"],
    &["300209d8594", "52804033910e", "593b8076fb2c"],
    &["8dca95cce28", "f034666cd80"],
    &["46b70a57edc0", "145d8f1e334d", "4cc2960cbe19"],
    &["4d45e479fbb9", "2d9d787a496"],
    &["22f085bf8bbd", "540bc5634bd"],
    &["263e91fd17d8", "2b9a327527a9"],
    &["219240032b88", "300209d8594", "2b9a327527a9"],
    &["325b273d61bd", "4b2ad1ffe2e7"],
    &["199943ccc774", "1aa674ccfa4e"],
    &["247ad6880f93", "1f6969597fe7"],
    &["4878cb1cb7f6", "28f4dd53ad3a"],
    &["2a66d7c4d8a1", "23f1ccb18d6d"],
    &["42b079245b55", "593b8076fb2c"],
    &["1cccf82219cb", "20fe477817d2", "915c67915c2"],
    &["b4143d129e", "159331d6f484", "504d5168afe1"],
    &["53d5ff905573", "3013877bf5bd"],
    &["1f5ceb1ec255", "3ffb59981d9a"],
    &["ef1c1c1531f", "4738812e6ece"],
    &["1f6963d1ae02", "247ad6880f93"],
    &["44d58f1d31f0", "18ff1ab3b4c4"],
    &["c3ebe64dfb5", "3409c57b0da", "31f352e77045"],
    &["f067f0b825c", "359329c2ebb"],
    &["52ab2d3b57ce", "96d590bd82e"],
    &["3b409f268da4", "20e90eb3eeb6", "263e91fd17d8"],
    &["5a4ca8889674", "4e6167c75ed0"],
    &["5810e9eff996", "2d30d79c4093", "52804033910e"],
    &["40f6508e4373", "4ed16fad67a7"],
    &["1811bdae9e63", "260714a3f2de"],
    &["3013877bf5bd", "8dca95cce28", "3fc8a578bc0a"],
    &["16426dbea880", "28f4dd53ad3a"],
    &["22f26011d635", "4c93d063d2ba", "3b93e98481b1"],
    &["3409c57b0da", "17b66754be21"],
    &["44373001000f", "42b079245b55", "219240032b88"],
    &["28f4dd53ad3a", "2e71fd90eb9d"],
    &["4cc2960cbe19", "504d5168afe1"],
    &["31f352e77045", "17b66754be21", "22f085bf8bbd"],
    &["4ed16fad67a7", "f034666cd80"],
    &["3da31f3323ec", "4c93d063d2ba"],
    &["31b1d4b7fc95", "1cc4459fd115"],
    &["11bc0ff42f87", "28f4dd53ad3a"],
    &["3a5db5f31209", "59742a546b84"],
    &["20e90eb3eeb6", "58c988e1aa4e", "44373001000f"],
    &["23f1ccb18d6d", "52ab2d3b57ce"],
    &["1d94175d221b", "21ab11a7c5c4"],
    &["36f1a410ed", "54f871bfe0b0"],
    &["181a149173e", "2ee35cac4c62"],
    &["171ad2f0c672", "4a4e0838e206"],
    &["2f93dd880bae", "540bc5634bd"],
    &["25a7ef58d293"],
    &["7f96a01461b", "184f65ed83af"],
    &["b21f22233f", "3e2f6c6d1182"],
    &["52804033910e", "1d94175d221b"],
    &["1e6240aba5b3", "4121bd6e99e9", "2c50d8bab6ee"],
    &["1cc4459fd115", "1e6240aba5b3"],
    &["274fd2642933", "4009c533e05d"],
    &["1aa674ccfa4e", "59223c5b7b36", "42050bf030fd"],
    &["4e28e2f4fe2f", "596d7b9e11"],
    &["49ddec8c7a5e", "124ef6a17781", "47578179e766"],
    &["3e9bb349cc46", "ef1c1c1531f"],
    &["2028d94d3863", "504d5168afe1"],
    &["159331d6f484", "34dfac7edb2d"],
    &["596d7b9e11", "171ad2f0c672"],
    &["3b96bcc8da76", "f034666cd80"],
    &["4738812e6ece", "78982bf5499"],
    &["3314c17f6e35", "27227dc4fda8"],
    &["30931c545bf", "2e71fd90eb9d"],
    &["2e71fd90eb9d", "c3ebe64dfb5", "1755e3b1481c"],
    &["3ed56beabfb7", "11bc0ff42f87", "69285b0faaa"],
    &["96d590bd82e", "3e9bb349cc46"],
    &["339faa12616", "4d45e479fbb9"],
    &["47578179e766", "2529684536da"],
    &["2ee35cac4c62", "b21f22233f"],
    &["50c7b21c9089", "4ed16fad67a7", "3b96bcc8da76"],
    &["78982bf5499", "ae77a2ed69b"],
    &["519c9f3ce294", "2c50d8bab6ee"],
    &["2720fc75e5fd", "1cccf82219cb"],
    &["21638ec787ba", "44d58f1d31f0"],
    &["59742a546b84", "49ddec8c7a5e"],
    &["2d30d79c4093", "135b5fd31062"],
    &["f034666cd80", "5a0003c3b09c", "38d069994064"],
    &["430133b6d46c", "181a149173e"],
    &["3a3b24a31b57", "16426dbea880", "4cc2960cbe19"],
    &["2529684536da", "64ed798bcc3", "1f6963d1ae02"],
    &["17b66754be21", "19e0db9d806a", "24c2620b2e3f"],
    &["3cf34fcd6473", "52804033910e", "4789d9c82ca7"],
    &["36c31e4e1c37", "504d5168afe1"],
    &["54f871bfe0b0", "519c9f3ce294"],
    &["4a4e0838e206", "2a7f37cf7770"],
    &["19e0db9d806a", "430074f99c29", "36f1a410ed"],
    &["44ed1bf512a0", "247ad6880f93"],
    &["42050bf030fd", "2f93dd880bae"],
    &["2c50d8bab6ee", "199943ccc774"],
    &["504d5168afe1", "28f4dd53ad3a", "30931c545bf"],
    &["915c67915c2", "3fc8a578bc0a"],
    &["2a7f37cf7770", "2720fc75e5fd"],
    &["4c93d063d2ba", "4e28e2f4fe2f"],
    &["42ded7355da2", "21638ec787ba"],
];

fn large_map() -> Graph {
    let revs: Vec<Revision> = DATA
        .iter()
        .map(|row| Revision::new(row[0], &row[1..]))
        .collect();
    Graph::build(revs).expect("the large map is valid")
}

#[test]
#[allow(non_snake_case)]
fn large_map__all() {
    let g = large_map();
    assert_eq!(g.len(), DATA.len());
    let all = g.plan_upgrade(&Applied::new(), "heads").unwrap();
    let order: Vec<&str> = all.steps.iter().map(|s| s.revision.id.as_str()).collect();
    assert_eq!(order.len(), g.len(), "every revision exactly once");
    let pos = |id: &str| order.iter().position(|x| *x == id).unwrap();
    for (idx, id) in order.iter().enumerate() {
        let ancestors: Vec<&str> = g.ancestors(id).iter().map(|r| r.id.as_str()).collect();
        let descendants: Vec<&str> = g.descendants(id).iter().map(|r| r.id.as_str()).collect();
        assert!(ancestors.iter().all(|a| !descendants.contains(a)));
        assert!(
            ancestors.iter().all(|a| pos(a) < idx),
            "{id} after its ancestors"
        );
        assert!(
            descendants.iter().all(|d| pos(d) > idx),
            "{id} before its descendants"
        );
    }
    // Downgrading everything is the exact reverse, and history lists the same.
    let applied = all.applied_after(&Applied::new());
    let down = g.plan_downgrade(&applied, "base").unwrap();
    let down_ids: Vec<&str> = down.steps.iter().map(|s| s.revision.id.as_str()).collect();
    let mut reversed = order.clone();
    reversed.reverse();
    assert_eq!(down_ids, reversed);
    assert_eq!(g.bases().len(), 1);
    // Every partial downgrade and re-upgrade round-trips.
    for id in order.iter().step_by(7) {
        let p = g.plan_downgrade(&applied, id).unwrap();
        let mut after = p.applied_after(&applied);
        assert!(after.contains(*id));
        for h in g.real_heads() {
            after = g.plan_upgrade(&after, &h.id).unwrap().applied_after(&after);
        }
        assert_eq!(after, applied);
    }
}
