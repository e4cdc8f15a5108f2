//! Draws the version graph in the terminal the way `git log --graph` does: one lane per open
//! line of history, `*` for a revision, `|\` where a merge revision opens its second parent's
//! lane, `|/` where two branches meet again at their branch point.

use std::collections::HashMap;

/// One revision to draw, newest first: its id, its parents (in declared order) and the text
/// printed after the lanes.
pub struct Node<'a> {
    pub id: &'a str,
    pub parents: &'a [String],
    pub text: String,
}

/// Renders the rows. `nodes` must be newest first with every parent after its children, which
/// the reverse of the graph's upgrade order guarantees.
pub fn render(nodes: &[Node<'_>]) -> Vec<String> {
    let mut lines = Vec::new();
    // Each lane waits for one revision (the parent its line of history leads to).
    let mut lanes: Vec<&str> = Vec::new();
    // Parents that appear in the drawing, so a lane is never opened for a revision outside it
    // (a `history -r` range cuts the graph).
    let shown: HashMap<&str, ()> = nodes.iter().map(|n| (n.id, ())).collect();

    for node in nodes {
        let mut positions: Vec<usize> = lanes
            .iter()
            .enumerate()
            .filter(|(_, lane)| **lane == node.id)
            .map(|(i, _)| i)
            .collect();
        if positions.is_empty() {
            // A head no lane leads to. When every earlier line has ended at a base, this is a
            // separate history: a blank line keeps it from reading as the parent of the last one.
            if lanes.is_empty() && !lines.is_empty() {
                lines.push(String::new());
            }
            lanes.push(node.id);
            positions.push(lanes.len() - 1);
        }
        let col = positions[0];
        // Branches meeting at this revision: fold every extra lane into `col`, rightmost first
        // so the positions of the others stay valid.
        for &p in positions[1..].iter().rev() {
            lines.push(collapse_line(lanes.len(), p));
            lanes.remove(p);
        }

        let mut row = String::new();
        for i in 0..lanes.len() {
            if i > 0 {
                row.push(' ');
            }
            row.push(if i == col { '*' } else { '|' });
        }
        row.push(' ');
        row.push_str(&node.text);
        lines.push(row);

        let parents: Vec<&str> = node
            .parents
            .iter()
            .map(String::as_str)
            .filter(|p| shown.contains_key(p))
            .collect();
        match parents.split_first() {
            None => {
                lanes.remove(col);
                if col < lanes.len() {
                    lines.push(shift_left_line(lanes.len() + 1, col));
                }
            }
            Some((first, rest)) => {
                lanes[col] = first;
                for (k, parent) in rest.iter().enumerate() {
                    let at = col + 1 + k;
                    lines.push(expand_line(lanes.len(), at - 1));
                    lanes.insert(at, parent);
                }
            }
        }
    }
    lines
}

/// The line that folds lane `p` into the lane on its left; lanes to its right move left too.
fn collapse_line(lane_count: usize, p: usize) -> String {
    let mut chars = vec![' '; lane_count * 2];
    for j in 0..lane_count {
        if j < p {
            chars[2 * j] = '|';
        } else {
            chars[2 * j - 1] = '/';
        }
    }
    chars.iter().collect::<String>().trim_end().to_string()
}

/// The line after a base revision ends lane `removed`: the lanes to its right move left.
fn shift_left_line(lane_count: usize, removed: usize) -> String {
    let mut chars = vec![' '; lane_count * 2];
    for j in 0..lane_count {
        if j < removed {
            chars[2 * j] = '|';
        } else if j > removed {
            chars[2 * j - 1] = '/';
        }
    }
    chars.iter().collect::<String>().trim_end().to_string()
}

/// The line that opens a new lane right of lane `at`; lanes to its right move right.
fn expand_line(lane_count: usize, at: usize) -> String {
    let mut chars = vec![' '; lane_count * 2 + 2];
    for j in 0..lane_count {
        if j <= at {
            chars[2 * j] = '|';
        } else {
            chars[2 * j + 1] = '\\';
        }
    }
    chars[2 * at + 1] = '\\';
    chars.iter().collect::<String>().trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(spec: &[(&str, &[&str])]) -> String {
        let owned: Vec<(String, Vec<String>)> = spec
            .iter()
            .map(|(id, ps)| (id.to_string(), ps.iter().map(|p| p.to_string()).collect()))
            .collect();
        let nodes: Vec<Node<'_>> = owned
            .iter()
            .map(|(id, ps)| Node {
                id,
                parents: ps,
                text: id.clone(),
            })
            .collect();
        render(&nodes).join("\n")
    }

    #[test]
    fn separate_histories_are_set_apart() {
        let got = draw(&[("b", &["a"]), ("a", &[]), ("y", &["x"]), ("x", &[])]);
        assert_eq!(got, "* b\n* a\n\n* y\n* x");
    }

    #[test]
    fn linear() {
        assert_eq!(
            draw(&[("c", &["b"]), ("b", &["a"]), ("a", &[])]),
            "* c\n* b\n* a"
        );
    }

    #[test]
    fn branch_and_merge() {
        let got = draw(&[
            ("e", &["d1", "d2"]),
            ("d2", &["c2"]),
            ("c2", &["b"]),
            ("d1", &["c1"]),
            ("c1", &["b"]),
            ("b", &["a"]),
            ("a", &[]),
        ]);
        assert_eq!(
            got,
            "* e\n|\\\n| * d2\n| * c2\n* | d1\n* | c1\n|/\n* b\n* a"
        );
    }

    #[test]
    fn two_heads_and_two_roots() {
        let got = draw(&[
            ("y", &["x"]),
            ("c", &["a"]),
            ("x", &[]),
            ("b", &["a"]),
            ("a", &[]),
        ]);
        assert_eq!(got, "* y\n| * c\n* | x\n /\n| * b\n|/\n* a");
    }
}
