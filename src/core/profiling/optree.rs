//! The op tree as the state keeps it: node metadata (name, parent, category, MACs and bytes from
//! calibration) and per-node time accumulated over inferences.

use std::sync::Arc;

use crate::core::profiling::ops::{categorize, Category};
use crate::core::profiling::profiler::{NodeId, NodeInfo, NodeKind, NodeTiming, OpShapes};

/// What the state knows about one node of the calling-context tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub parent: Option<NodeId>,
    pub kind: NodeKind,
    pub name: Arc<str>,
    pub category: Category,
    /// The nearest op above this node, if any (for ops: `None` means top-level).
    pub parent_op: Option<NodeId>,
    /// The nearest scope above (a layer, or the model's own scope).
    pub scope: Option<NodeId>,
    /// Per inference, from the calibration pass.
    pub macs: f64,
    pub bytes: f64,
    pub calib_calls: u64,
    /// Ops only: the shapes of each of its calls in the calibration pass, in order.
    pub call_shapes: Arc<[OpShapes]>,
}

impl Node {
    /// Ops only: the shapes of its first call in the calibration pass (what the tables show).
    #[must_use]
    pub fn shapes(&self) -> Option<&OpShapes> {
        self.call_shapes.first()
    }

    /// An op with no op above it: its total time is booked to its category.
    #[must_use]
    pub fn is_top_level_op(&self) -> bool {
        self.kind == NodeKind::Op && self.parent_op.is_none()
    }
}

/// Accumulated counters of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeTotals {
    pub calls: u64,
    pub total_ns: u64,
    pub self_ns: u64,
}

/// All nodes seen so far, indexed by id, with their accumulated counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpTree {
    nodes: Vec<Option<Node>>,
    totals: Vec<NodeTotals>,
    /// Each node's children by id: a subtree is walked in its own size, not the whole tree's
    /// (ten models' trees hold thousands of nodes; the views walk each model's every frame).
    children: Vec<Vec<NodeId>>,
}

impl OpTree {
    /// Adds new nodes or updates known ones with calibration results.
    pub fn merge(&mut self, infos: &[NodeInfo]) {
        let mut sorted: Vec<&NodeInfo> = infos.iter().collect();
        sorted.sort_by_key(|n| n.id); // parents have smaller ids than their children
        for info in sorted {
            let i = info.id as usize;
            if self.nodes.len() <= i {
                self.nodes.resize(i + 1, None);
                self.totals.resize(i + 1, NodeTotals::default());
                self.children.resize(i + 1, Vec::new());
            }
            if let (None, Some(p)) = (&self.nodes[i], info.parent) {
                if self.children.len() <= p as usize {
                    self.children.resize(p as usize + 1, Vec::new());
                }
                self.children[p as usize].push(info.id);
            }
            let parent = info.parent.and_then(|p| self.get(p));
            let (parent_op, scope) = match (parent, info.parent) {
                (Some(p), Some(pid)) => match p.kind {
                    NodeKind::Op => (Some(pid), p.scope),
                    NodeKind::Scope => (p.parent_op, Some(pid)),
                },
                _ => (None, None),
            };
            self.nodes[i] = Some(Node {
                parent: info.parent,
                kind: info.kind,
                name: Arc::clone(&info.name),
                category: categorize(&info.name),
                parent_op,
                scope,
                macs: info.macs,
                bytes: info.bytes,
                calib_calls: info.calib_calls,
                call_shapes: Arc::clone(&info.call_shapes),
            });
        }
    }

    /// Adds one inference's counters.
    pub fn record(&mut self, timings: &[NodeTiming]) {
        for t in timings {
            if let Some(acc) = self.totals.get_mut(t.node as usize) {
                acc.calls += u64::from(t.calls);
                acc.total_ns += t.total_ns;
                acc.self_ns += t.self_ns;
            }
        }
    }

    /// Takes one inference's counters back out (it was recorded, then left out of the figures).
    pub fn unrecord(&mut self, timings: &[NodeTiming]) {
        for t in timings {
            if let Some(acc) = self.totals.get_mut(t.node as usize) {
                acc.calls = acc.calls.saturating_sub(u64::from(t.calls));
                acc.total_ns = acc.total_ns.saturating_sub(t.total_ns);
                acc.self_ns = acc.self_ns.saturating_sub(t.self_ns);
            }
        }
    }

    /// Forgets accumulated time (the nodes and their calibration stay).
    pub fn reset_totals(&mut self) {
        self.totals.iter_mut().for_each(|t| *t = NodeTotals::default());
    }

    #[must_use]
    pub fn get(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize).and_then(Option::as_ref)
    }

    #[must_use]
    pub fn totals(&self, id: NodeId) -> NodeTotals {
        self.totals.get(id as usize).copied().unwrap_or_default()
    }

    /// Every node of the subtree below `root` (excluding `root`), in id order, so parents
    /// come before their children.
    #[must_use]
    pub fn descendants(&self, root: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack: Vec<NodeId> = self.children.get(root as usize).cloned().unwrap_or_default();
        while let Some(id) = stack.pop() {
            if self.nodes.get(id as usize).is_some_and(Option::is_some) {
                out.push(id);
                if let Some(kids) = self.children.get(id as usize) {
                    stack.extend_from_slice(kids);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The name of node `id` (`?` when unknown).
    #[must_use]
    pub fn name_of(&self, id: NodeId) -> &str {
        self.get(id).map_or("?", |n| &n.name)
    }
}
