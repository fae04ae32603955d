// infertop's op profiler: a libtorch RecordFunction callback that builds a calling-context tree
// (CCT) of ops and user scopes on the engine thread and accumulates calls, total and self time
// per node. Rust reads and resets the counters after each inference through the C ABI below.
//
// Why a CCT and not a flat table: the same op (aten::empty, aten::view) means different things
// under a convolution and under a concat; keeping the parent chain lets the UI show what a
// convolution spends in its own bookkeeping and which kernel actually ran.
//
// Callbacks are thread-local (addThreadLocalCallback): only the thread that opted in pays for
// them, and tests or other threads can profile side by side without touching each other. libtorch
// hands thread-local callbacks on to intra-op worker threads; those do not record (the `enabled`
// flag is per thread) because their work happens inside an op the engine thread already times.
#include <ATen/record_function.h>
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

constexpr int32_t kRoot = 0;

struct Node {
  int32_t parent;
  uint8_t is_scope;  // 1 for scopes (layers, models, USER_SCOPE records), 0 for ops
  const char* name_ptr;  // the pointer first seen with this name (see child_of)
  std::string name;
  std::vector<int32_t> children;
  // Counters since the last take.
  uint64_t calls = 0, total_ns = 0, self_ns = 0;
  bool touched = false;
  // Calibration results (one pass with input capture).
  uint64_t calib_calls = 0;
  double calib_macs = 0, calib_bytes = 0;
};

struct Frame {
  int32_t node;
  uint64_t start_ns;
  uint64_t child_ns;
  // Calibration only: the factor that turns the first output's element count into MACs,
  // and the bytes the inputs occupy; both must be read in the start callback.
  double macs_per_output = 0;
  double input_bytes = 0;
};

struct ThreadProfile {
  bool enabled = false;
  bool calibrating = false;
  at::CallbackHandle handle = 0;  // this thread's callback, 0 when none
  std::vector<Node> nodes;        // by id; only indices are kept across calls
  std::vector<Frame> stack;
  std::vector<int32_t> touched;
  ThreadProfile() {
    nodes.reserve(4096);
    stack.reserve(64);
    nodes.push_back(Node{-1, 1, nullptr, "<root>", {}});
  }
};

thread_local ThreadProfile tls;

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// How a name identifies a node. Op names point into operator schemas and infertop's scope names
// are interned for the process, so for both the pointer identifies the name and a pointer match
// is enough (the text is compared only when no pointer matches). A USER_SCOPE record's name lives
// inside the RecordFunction, whose memory the next record may reuse: those compare by text only.
enum class Match { PointerFirst, TextOnly };

int32_t child_of(ThreadProfile& t, int32_t parent, const char* name, bool is_scope, Match match) {
  const std::vector<int32_t>& children = t.nodes[parent].children;
  if (match == Match::PointerFirst) {
    for (int32_t c : children)
      if (t.nodes[c].name_ptr == name && t.nodes[c].is_scope == is_scope) return c;
  }
  for (int32_t c : children)
    if (t.nodes[c].is_scope == is_scope && t.nodes[c].name == name) return c;
  int32_t id = int32_t(t.nodes.size());
  t.nodes.push_back(Node{parent, uint8_t(is_scope), match == Match::PointerFirst ? name : nullptr, name, {}});
  t.nodes[parent].children.push_back(id);
  return id;
}

Frame& push(ThreadProfile& t, const char* name, bool is_scope, Match match) {
  int32_t parent = t.stack.empty() ? kRoot : t.stack.back().node;
  t.stack.push_back(Frame{child_of(t, parent, name, is_scope, match), 0, 0});
  return t.stack.back();
}

Frame& push_record(ThreadProfile& t, const at::RecordFunction& fn) {
  bool is_scope = fn.scope() == at::RecordScope::USER_SCOPE;
  return push(t, fn.name(), is_scope, is_scope ? Match::TextOnly : Match::PointerFirst);
}

void pop(ThreadProfile& t, uint64_t end_ns) {
  Frame f = t.stack.back();
  t.stack.pop_back();
  uint64_t dur = end_ns > f.start_ns ? end_ns - f.start_ns : 0;
  Node& n = t.nodes[f.node];
  n.calls += 1;
  n.total_ns += dur;
  n.self_ns += dur > f.child_ns ? dur - f.child_ns : 0;
  if (t.calibrating) n.calib_calls += 1;
  if (!n.touched) {
    n.touched = true;
    t.touched.push_back(f.node);
  }
  if (!t.stack.empty()) t.stack.back().child_ns += dur;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  ThreadProfile& t = tls;
  if (t.enabled) push_record(t, fn).start_ns = now_ns();
  return nullptr;
}

void on_end(const at::RecordFunction&, at::ObserverContext*) {
  ThreadProfile& t = tls;
  if (t.enabled && !t.stack.empty()) pop(t, now_ns());
}

// ---- calibration: MACs and bytes from real shapes -------------------------------------------

double tensor_bytes(const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    return t.defined() ? double(t.numel()) * double(t.element_size()) : 0.0;
  }
  if (v.isTensorList()) {
    double sum = 0;
    for (const at::Tensor& t : v.toTensorVector())
      if (t.defined()) sum += double(t.numel()) * double(t.element_size());
    return sum;
  }
  return 0.0;
}

bool has_tensor(c10::ArrayRef<const c10::IValue> in, size_t i) {
  return in.size() > i && in[i].isTensor() && in[i].toTensor().defined();
}

// MACs per element of the first output. Convolutions: weight [Cout, Cin/groups, kh, kw] gives
// Cin/groups*kh*kw per output element. Matrix products: the shared (inner) dimension.
double macs_per_output(const char* name, c10::ArrayRef<const c10::IValue> in) {
  std::string_view op(name);
  if (op.find("conv") != std::string_view::npos && has_tensor(in, 1)) {
    const at::Tensor& w = in[1].toTensor();
    if (w.dim() >= 3 && w.size(0) > 0) return double(w.numel() / w.size(0));
    return 0;
  }
  if (op == "aten::linear" && has_tensor(in, 1)) return double(in[1].toTensor().size(-1));
  if ((op == "aten::addmm" || op == "aten::baddbmm") && has_tensor(in, 1))
    return double(in[1].toTensor().size(-1));
  if ((op == "aten::mm" || op == "aten::bmm" || op == "aten::matmul") && has_tensor(in, 0))
    return double(in[0].toTensor().size(-1));
  return 0;
}

std::unique_ptr<at::ObserverContext> on_start_calib(const at::RecordFunction& fn) {
  if (!tls.enabled) return nullptr;
  Frame& f = push_record(tls, fn);
  if (fn.scope() != at::RecordScope::USER_SCOPE) {
    auto in = fn.inputs();
    f.macs_per_output = macs_per_output(fn.name(), in);
    for (const auto& v : in) f.input_bytes += tensor_bytes(v);
  }
  f.start_ns = now_ns();
  return nullptr;
}

void on_end_calib(const at::RecordFunction& fn, at::ObserverContext*) {
  if (!tls.enabled || tls.stack.empty()) return;
  const Frame& f = tls.stack.back();
  Node& n = tls.nodes[f.node];
  if (!n.is_scope) {
    const auto& out = fn.outputs();
    double out_bytes = 0;
    for (const auto& v : out) out_bytes += tensor_bytes(v);
    double out_elems = (!out.empty() && out[0].isTensor() && out[0].toTensor().defined())
                           ? double(out[0].toTensor().numel())
                           : 0.0;
    n.calib_macs += f.macs_per_output * out_elems;
    n.calib_bytes += f.input_bytes + out_bytes;
  }
  pop(tls, now_ns());
}

at::RecordFunctionCallback make_callback(bool calibrating) {
  auto cb = calibrating ? at::RecordFunctionCallback(on_start_calib, on_end_calib)
                        : at::RecordFunctionCallback(on_start, on_end);
  cb.scopes({at::RecordScope::FUNCTION, at::RecordScope::USER_SCOPE});
  if (calibrating) cb.needsInputs(true).needsOutputs(true);
  return cb;
}

}  // namespace

extern "C" {

/// Starts (1) or stops (0) recording on the calling thread.
void infertop_prof_enable(int on) {
  // The engine calls this before every inference; with nothing to change (the stack is empty
  // between inferences), re-registering the callback would be wasted work.
  if (tls.enabled == (on != 0) && !tls.calibrating && tls.stack.empty()) return;
  if (tls.handle != 0) {
    at::removeCallback(tls.handle);
    tls.handle = 0;
  }
  tls.enabled = on != 0;
  tls.calibrating = false;
  tls.stack.clear();
  if (tls.enabled) tls.handle = at::addThreadLocalCallback(make_callback(false));
}

/// Swaps this thread's timing callback for one that captures inputs and outputs (slow) and
/// clears the previous calibration; 0 swaps back.
void infertop_prof_calibrate(int on) {
  if (!tls.enabled || tls.calibrating == (on != 0)) return;
  if (on) {
    for (Node& n : tls.nodes) { n.calib_calls = 0; n.calib_macs = 0; n.calib_bytes = 0; }
  }
  at::removeCallback(tls.handle);
  tls.calibrating = on != 0;
  tls.handle = at::addThreadLocalCallback(make_callback(tls.calibrating));
}

/// Opens a scope named `name` (interned by the caller: it must outlive the process's use of the
/// profiler) on the calling thread; returns a handle for `infertop_scope_exit`, or null when this
/// thread does not record. Scopes are pushed on the tree directly rather than through a
/// USER_SCOPE RecordFunction: same tree, without a heap allocation and a name copy per layer.
void* infertop_scope_enter(const char* name) {
  ThreadProfile& t = tls;
  if (!t.enabled) return nullptr;
  push(t, name, true, Match::PointerFirst).start_ns = now_ns();
  return &t;
}

void infertop_scope_exit(void* handle) {
  ThreadProfile& t = tls;
  if (handle == &t && t.enabled && !t.stack.empty()) pop(t, now_ns());
}

/// Frames open on this thread's stack: 0 between inferences.
int32_t infertop_prof_stack_depth() { return int32_t(tls.stack.size()); }

/// Number of nodes known so far; ids are 0..count and never change.
int32_t infertop_prof_node_count() { return int32_t(tls.nodes.size()); }

/// Describes node `id`: its parent (-1 for the root), whether it is a user scope, its name
/// (valid for the thread's lifetime) and the calibration results.
int infertop_prof_node_info(int32_t id, int32_t* parent, int32_t* is_scope, const char** name,
                            uint64_t* calib_calls, double* calib_macs, double* calib_bytes) {
  if (id < 0 || size_t(id) >= tls.nodes.size()) return -1;
  const Node& n = tls.nodes[id];
  *parent = n.parent;
  *is_scope = n.is_scope;
  *name = n.name.c_str();
  *calib_calls = n.calib_calls;
  *calib_macs = n.calib_macs;
  *calib_bytes = n.calib_bytes;
  return 0;
}

/// Copies the counters of every node touched since the last call into the arrays (up to `cap`
/// entries), resets them, and returns how many nodes were touched (which may exceed `cap`: the
/// caller then grows its arrays and the rest is lost, so callers size them by node count).
int32_t infertop_prof_take(int32_t* ids, uint64_t* calls, uint64_t* total_ns, uint64_t* self_ns,
                           int32_t cap) {
  int32_t n = int32_t(tls.touched.size());
  for (int32_t i = 0; i < n; ++i) {
    Node& node = tls.nodes[tls.touched[i]];
    if (i < cap) {
      ids[i] = tls.touched[i];
      calls[i] = node.calls;
      total_ns[i] = node.total_ns;
      self_ns[i] = node.self_ns;
    }
    node.calls = node.total_ns = node.self_ns = 0;
    node.touched = false;
  }
  tls.touched.clear();
  return n;
}

}  // extern "C"
