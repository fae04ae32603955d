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
//
// Failures: no C++ exception may unwind into Rust (undefined behaviour), and one leaving a
// callback would only be logged by libtorch, with our tree left half updated. So every entry
// point and callback is noexcept, and those that can throw run their body through `guarded`,
// which catches everything. An exception (out of memory while the tree grows, an error from
// libtorch) switches recording off on the thread and leaves a fault that Rust collects with
// infertop_prof_take_fault, so an interrupted recording never passes for a complete one. Entry
// points that can fail return a status: kOk, kIgnored, or one of the negative kErr* codes
// (mirrored in profiler/ffi.rs).
#include <ATen/record_function.h>
#include <ATen/core/ivalue.h>

#include "calibration.h"
#include "modules.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

constexpr int kOk = 0;
constexpr int kIgnored = 1;  // a scope exit whose frame is not the innermost open one
constexpr int kErrOutOfMemory = -1;
constexpr int kErrException = -2;
constexpr int kErrNotRecording = -3;
constexpr int kErrBadArgument = -4;

constexpr int32_t kRoot = 0;

// The serial of a scope frame opened for a TorchScript module (see follow_modules): no handle
// from infertop_scope_enter ever has it, and end callbacks do not close it.
constexpr uint64_t kModuleFrame = UINT64_MAX;

struct Node {
  int32_t parent;
  uint8_t is_scope;  // 1 for scopes (layers, models, USER_SCOPE records), 0 for ops
  const char* name_ptr;  // the pointer first seen with this name, only compared (see child_of)
  std::string name;      // copied out by infertop_prof_node_info, never handed out
  std::vector<int32_t> children;
  // Counters since the last take.
  uint64_t calls = 0, total_ns = 0, self_ns = 0;
  bool touched = false;
  // Calibration results (one pass with input capture).
  uint64_t calib_calls = 0;
  double calib_macs = 0, calib_bytes = 0;
  // Ops only: the shapes of each call of the latest calibration pass, in order (the first
  // kMaxCallShapes): an op name called under one scope with different shapes (a traced model
  // with no modules, a functional ReLU between layers) is predicted call by call.
  std::vector<infertop::OpShapes> shapes = {};
};

// One closed frame of a traced inference: what `pop` saw, kept in order of closing.
struct Span {
  int32_t node;
  uint64_t start_ns, end_ns, child_ns;
};

struct Frame {
  int32_t node = kRoot;
  uint64_t start_ns = 0;
  uint64_t child_ns = 0;
  // The handle of a scope opened by infertop_scope_enter (unique on its thread); 0 for frames
  // the callbacks push, which only the end callback closes.
  uint64_t serial = 0;
  // Calibration only: the factor that turns the first output's element count into MACs,
  // and the bytes the inputs occupy; both must be read in the start callback.
  double macs_per_output = 0;
  double input_bytes = 0;
};

// Constructing this allocates nothing and cannot throw, so any code, the catch handlers
// included, may touch `tls`; the tree's first allocations happen in `ready`, inside a guard.
struct ThreadProfile {
  bool enabled = false;
  bool calibrating = false;
  at::CallbackHandle handle = 0;  // this thread's callback, 0 when none
  std::vector<Node> nodes;        // by id, the root first; only ids leave the shim
  std::vector<Frame> stack;
  std::vector<int32_t> touched;
  uint64_t last_serial = 0;      // of the last scope infertop_scope_enter opened
  int32_t failing_creation = 0;  // tests only: the node creation (counting down) that throws
  int fault = kOk;               // the first failure since infertop_prof_take_fault
  char fault_text[200] = {};
  // Trace mode (one inference): every frame `pop` closes is also kept as a span.
  bool tracing = false;
  std::vector<Span> spans;
  // TorchScript modules: whether ops are placed under scopes named after the modules they run
  // in, and the module scope frames open (see follow_modules).
  bool follow_modules = true;
  infertop::ModuleTracker modules;
};

thread_local ThreadProfile tls;

// Set while some thread traces: a callback on a thread that does not record then counts its op,
// so a trace can say whether ops ran on other threads (intra-op workers) that it did not see.
std::atomic<int> g_tracers{0};
std::atomic<uint64_t> g_foreign_ops{0};

inline uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Stops recording on this thread after `code` and keeps the first fault for Rust. Usable from
// anywhere, the callbacks included: it neither allocates nor touches libtorch's callback list
// (the callback stays registered but idle until the next infertop_prof_enable removes it).
int fail(int code, const char* what) noexcept {
  ThreadProfile& t = tls;
  t.enabled = false;
  t.stack.clear();
  t.modules.forget_stack();
  if (t.fault == kOk) {
    t.fault = code;
    std::snprintf(t.fault_text, sizeof t.fault_text, "%s", what);
  }
  return code;
}

// Runs `body` (returning a status) and turns any exception into a fault.
template <class Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(kErrOutOfMemory, "out of memory");
  } catch (const c10::Error& e) {
    return fail(kErrException, e.what_without_backtrace());
  } catch (const std::exception& e) {
    return fail(kErrException, e.what());
  } catch (...) {
    return fail(kErrException, "unknown C++ exception");
  }
}

// Creates the root on first use.
void ready(ThreadProfile& t) {
  if (!t.nodes.empty()) return;
  t.stack.reserve(64);
  t.nodes.reserve(4096);
  t.nodes.push_back(Node{-1, 1, nullptr, "<root>", {}});
}

// How a name identifies a node. Op names point into operator schemas and infertop's scope names
// are interned for the process, so for both the pointer identifies the name and a pointer match
// is enough (the text is compared only when no pointer matches). A USER_SCOPE record's name lives
// inside the RecordFunction, whose memory the next record may reuse: those compare by text only.
enum class Match { PointerFirst, TextOnly };

// The child of `parent` with this name, created if new. If it throws, the tree is unchanged.
int32_t child_of(ThreadProfile& t, int32_t parent, const char* name, bool is_scope, Match match) {
  if (match == Match::PointerFirst) {
    for (int32_t c : t.nodes[parent].children)
      if (t.nodes[c].name_ptr == name && t.nodes[c].is_scope == is_scope) return c;
  }
  for (int32_t c : t.nodes[parent].children)
    if (t.nodes[c].is_scope == is_scope && t.nodes[c].name == name) return c;
  if (t.failing_creation > 0 && --t.failing_creation == 0) throw std::bad_alloc();
  int32_t id = int32_t(t.nodes.size());
  t.nodes[parent].children.push_back(id);
  try {
    t.nodes.push_back(
        Node{parent, uint8_t(is_scope), match == Match::PointerFirst ? name : nullptr, name, {}});
  } catch (...) {
    t.nodes[parent].children.pop_back();
    throw;
  }
  return id;
}

Frame& push(ThreadProfile& t, const char* name, bool is_scope, Match match) {
  Frame f;
  f.node = child_of(t, t.stack.empty() ? kRoot : t.stack.back().node, name, is_scope, match);
  t.stack.push_back(f);
  return t.stack.back();
}

Frame& push_record(ThreadProfile& t, const at::RecordFunction& fn) {
  bool is_scope = fn.scope() == at::RecordScope::USER_SCOPE;
  return push(t, fn.name(), is_scope, is_scope ? Match::TextOnly : Match::PointerFirst);
}

// Closes the innermost frame. If it throws, nothing has changed.
void pop(ThreadProfile& t, uint64_t end_ns) {
  const Frame f = t.stack.back();
  // The one branch trace mode adds to the timing path; may throw, before anything changes.
  if (t.tracing) t.spans.push_back(Span{f.node, f.start_ns, end_ns, f.child_ns});
  Node& n = t.nodes[f.node];
  if (!n.touched) t.touched.push_back(f.node);  // may throw too: nothing has changed yet
  n.touched = true;
  t.stack.pop_back();
  uint64_t dur = end_ns > f.start_ns ? end_ns - f.start_ns : 0;
  n.calls += 1;
  n.total_ns += dur;
  n.self_ns += dur > f.child_ns ? dur - f.child_ns : 0;
  if (t.calibrating) n.calib_calls += 1;
  if (!t.stack.empty()) t.stack.back().child_ns += dur;
}

// Whether an end callback has a frame of its own to close: the innermost one, if a start
// callback pushed it (a scope frame on top means this record's start was not seen).
bool callback_frame_on_top(const ThreadProfile& t) {
  return t.enabled && !t.stack.empty() && t.stack.back().serial == 0;
}

// Closes the module scope frames above the first `keep`, innermost first, as long as they are
// on top of the stack.
void close_modules(ThreadProfile& t, size_t keep, uint64_t end_ns) {
  while (t.modules.open.size() > keep && !t.stack.empty() && t.stack.back().serial == kModuleFrame) {
    pop(t, end_ns);
    t.modules.open.pop_back();
  }
}

// Before an op starts: when the interpreter runs it inside TorchScript modules, puts it under
// one scope frame per module level, named by the module's path (`features`, `features.conv`)
// as the built-in nets name their layers; closes the frames of modules it has left. Only an op
// with no op around it can be in other modules than the op before it (an op inside an op runs
// in its caller's module), so only those look their modules up, and they ask the interpreter
// only when the run departs from the last one (ModuleTracker::paths_of).
void follow_modules(ThreadProfile& t, const at::RecordFunction& fn) {
  if (!t.follow_modules || fn.scope() == at::RecordScope::USER_SCOPE) return;
  if (!t.stack.empty() && !t.nodes[t.stack.back().node].is_scope) return;
  const std::vector<std::string>& want = t.modules.paths_of(fn.name());
  std::vector<std::string>& open = t.modules.open;
  size_t keep = 0;
  while (keep < open.size() && keep < want.size() && open[keep] == want[keep]) ++keep;
  if (keep == open.size() && keep == want.size()) return;
  const uint64_t now = now_ns();
  close_modules(t, keep, now);
  // Frames the stack does not end with (a scope of some other kind on top) stay as they are.
  if (open.size() != keep) return;
  open.reserve(want.size());
  for (size_t i = keep; i < want.size(); ++i) {
    Frame& f = push(t, want[i].c_str(), true, Match::TextOnly);
    f.serial = kModuleFrame;
    f.start_ns = now;
    open.push_back(want[i]);
  }
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) noexcept {
  ThreadProfile& t = tls;
  if (t.enabled) {
    guarded([&] {
      follow_modules(t, fn);
      push_record(t, fn).start_ns = now_ns();
      return kOk;
    });
  } else if (g_tracers.load(std::memory_order_relaxed) > 0 &&
             fn.scope() == at::RecordScope::FUNCTION) {
    // A thread that inherited the callback but does not record: an op a trace cannot show.
    g_foreign_ops.fetch_add(1, std::memory_order_relaxed);
  }
  return nullptr;
}

void on_end(const at::RecordFunction&, at::ObserverContext*) noexcept {
  ThreadProfile& t = tls;
  if (callback_frame_on_top(t)) guarded([&] {
    pop(t, now_ns());
    return kOk;
  });
}

// ---- calibration: MACs and bytes from real shapes -------------------------------------------

std::unique_ptr<at::ObserverContext> on_start_calib(const at::RecordFunction& fn) noexcept {
  ThreadProfile& t = tls;
  if (t.enabled) guarded([&] {
    follow_modules(t, fn);
    Frame& f = push_record(t, fn);
    if (fn.scope() != at::RecordScope::USER_SCOPE) {
      auto in = fn.inputs();
      f.macs_per_output = infertop::macs_per_output(fn.name(), in);
      for (const auto& v : in) f.input_bytes += infertop::tensor_bytes(v);
      Node& n = t.nodes[f.node];
      if (n.shapes.size() == n.calib_calls && n.shapes.size() < infertop::kMaxCallShapes) {
        n.shapes.emplace_back();
        infertop::read_inputs(fn.name(), in, n.shapes.back());
      }
    }
    f.start_ns = now_ns();
    return kOk;
  });
  return nullptr;
}

void on_end_calib(const at::RecordFunction& fn, at::ObserverContext*) noexcept {
  ThreadProfile& t = tls;
  if (callback_frame_on_top(t)) guarded([&] {
    const Frame& f = t.stack.back();
    Node& n = t.nodes[f.node];
    if (!n.is_scope) {
      const auto& out = fn.outputs();
      double out_bytes = 0;
      for (const auto& v : out) out_bytes += infertop::tensor_bytes(v);
      // This call's entry, if it has one (calib_calls counts it when it is popped).
      if (n.shapes.size() == n.calib_calls + 1) infertop::read_output(out, n.shapes.back());
      double out_elems = (!out.empty() && out[0].isTensor() && out[0].toTensor().defined())
                             ? double(out[0].toTensor().numel())
                             : 0.0;
      n.calib_macs += f.macs_per_output * out_elems;
      n.calib_bytes += f.input_bytes + out_bytes;
    }
    pop(t, now_ns());
    return kOk;
  });
}

at::RecordFunctionCallback make_callback(bool calibrating) {
  auto cb = calibrating ? at::RecordFunctionCallback(on_start_calib, on_end_calib)
                        : at::RecordFunctionCallback(on_start, on_end);
  cb.scopes({at::RecordScope::FUNCTION, at::RecordScope::USER_SCOPE});
  if (calibrating) cb.needsInputs(true).needsOutputs(true);
  return cb;
}

// Unregisters this thread's callback, if any. Only from the entry points below, never from a
// callback (libtorch may be walking its callback list then).
void drop_callback(ThreadProfile& t) {
  if (t.handle == 0) return;
  at::removeCallback(t.handle);
  t.handle = 0;
}

}  // namespace

extern "C" {

/// Starts (1) or stops (0) recording on the calling thread; either way open frames are dropped
/// (their scope handles go stale). Also the way back after a fault: recording starts afresh.
int infertop_prof_enable(int on) noexcept {
  return guarded([on] {
    ThreadProfile& t = tls;
    const bool want = on != 0;
    // The engine calls this before every inference; with nothing to change (the stack is empty
    // between inferences), re-registering the callback would be wasted work.
    if (t.enabled == want && (t.handle != 0) == want && !t.calibrating && t.stack.empty())
      return kOk;
    t.enabled = false;
    t.calibrating = false;
    t.stack.clear();
    t.modules.forget_stack();
    drop_callback(t);
    if (want) {
      ready(t);
      t.handle = at::addThreadLocalCallback(make_callback(false));
      t.enabled = true;
    }
    return kOk;
  });
}

/// Swaps this thread's timing callback for one that captures inputs and outputs (slow) and
/// clears the previous calibration; 0 swaps back. kErrNotRecording when asked to calibrate
/// while recording is off.
int infertop_prof_calibrate(int on) noexcept {
  return guarded([on] {
    ThreadProfile& t = tls;
    const bool want = on != 0;
    if (t.calibrating == want) return kOk;
    if (want && !t.enabled) return kErrNotRecording;
    if (want) {
      for (Node& n : t.nodes) {
        n.calib_calls = 0;
        n.calib_macs = 0;
        n.calib_bytes = 0;
        n.shapes.clear();
      }
    }
    // Off first: should adding the new callback throw, none is left behind.
    drop_callback(t);
    t.calibrating = want;
    if (t.enabled) t.handle = at::addThreadLocalCallback(make_callback(want));
    return kOk;
  });
}

/// Opens a scope on the calling thread and sets `*handle` to the value that closes it, 0 when
/// the thread does not record. `name` is compared by address first (see Match), so it must be
/// NUL-terminated and never name other text at that address while the thread lives: infertop
/// interns scope names for the process. Scopes are pushed on the tree directly rather than
/// through a USER_SCOPE RecordFunction: same tree, without a heap allocation and a name copy
/// per layer.
int infertop_scope_enter(const char* name, uint64_t* handle) noexcept {
  if (name == nullptr || handle == nullptr) return kErrBadArgument;
  *handle = 0;
  return guarded([name, handle] {
    ThreadProfile& t = tls;
    if (!t.enabled) return kOk;
    Frame& f = push(t, name, true, Match::PointerFirst);
    t.modules.entered_scope(f.node);
    f.serial = ++t.last_serial;
    f.start_ns = now_ns();
    *handle = f.serial;
    return kOk;
  });
}

/// Closes the scope `handle` opened if it is the innermost open frame; otherwise (a stale
/// handle after recording was switched, or an exit out of turn) closes nothing: kIgnored.
int infertop_scope_exit(uint64_t handle) noexcept {
  return guarded([handle] {
    ThreadProfile& t = tls;
    if (handle == 0 || !t.enabled) return kIgnored;
    const uint64_t now = now_ns();
    // The last TorchScript module an op ran in is still open: it ends where its caller does.
    close_modules(t, 0, now);
    if (t.stack.empty() || t.stack.back().serial != handle) return kIgnored;
    pop(t, now);
    return kOk;
  });
}

/// Frames open on this thread's stack: 0 between inferences.
int32_t infertop_prof_stack_depth() noexcept { return int32_t(tls.stack.size()); }

/// Number of nodes known so far; ids are 0..count and never change.
int32_t infertop_prof_node_count() noexcept { return int32_t(tls.nodes.size()); }

/// A node as infertop_prof_node_info describes it (mirrored by `RawNode` in profiler/ffi.rs).
struct InfertopNode {
  int32_t parent;    // -1 for the root
  int32_t is_scope;  // 1 for scopes, 0 for ops
  uint64_t calib_calls;
  double calib_macs;
  double calib_bytes;
  uint64_t name_len;  // bytes in the whole name, which may exceed what was copied
};

/// Describes node `id` in `*out` and copies up to `name_cap` bytes of its name (UTF-8, no NUL)
/// into `name`. A caller whose buffer was shorter than `out->name_len` asks again with a longer
/// one. Nothing handed out points into the shim's memory.
int infertop_prof_node_info(int32_t id, InfertopNode* out, char* name, size_t name_cap) noexcept {
  return guarded([=] {
    const ThreadProfile& t = tls;
    if (out == nullptr || (name == nullptr && name_cap > 0) || id < 0 ||
        size_t(id) >= t.nodes.size())
      return kErrBadArgument;
    const Node& n = t.nodes[size_t(id)];
    *out = InfertopNode{n.parent,     int32_t(n.is_scope), n.calib_calls,
                        n.calib_macs, n.calib_bytes,       uint64_t(n.name.size())};
    size_t copied = std::min(name_cap, n.name.size());
    if (copied > 0) std::memcpy(name, n.name.data(), copied);
    return kOk;
  });
}

/// Copies the shapes node `id` saw in call `call` (from 0) of the latest calibration pass into
/// `*out` (mirrored by `RawShapes` in profiler/ffi.rs); kIgnored when it has none (a scope, an
/// op calibration did not reach, or a call past the last one kept).
int infertop_prof_node_shapes(int32_t id, uint64_t call, infertop::OpShapes* out) noexcept {
  const ThreadProfile& t = tls;
  if (out == nullptr || id < 0 || size_t(id) >= t.nodes.size()) return kErrBadArgument;
  const Node& n = t.nodes[size_t(id)];
  if (call >= n.shapes.size() || call >= n.calib_calls) return kIgnored;
  *out = n.shapes[size_t(call)];
  return kOk;
}

/// Whether ops the TorchScript interpreter runs are placed under scopes named after their
/// modules (1, the default) or not (0: for measuring what that costs). For what runs next.
void infertop_prof_follow_modules(int on) noexcept { tls.follow_modules = on != 0; }

/// Copies the counters of every node touched since the last call into the arrays (up to `cap`
/// entries), resets them, and sets `*touched` to how many nodes were touched (which may exceed
/// `cap`: the caller then loses the rest, so callers size the arrays by node count).
int infertop_prof_take(int32_t* ids, uint64_t* calls, uint64_t* total_ns, uint64_t* self_ns,
                       int32_t cap, int32_t* touched) noexcept {
  if (touched == nullptr || (cap > 0 && (!ids || !calls || !total_ns || !self_ns)))
    return kErrBadArgument;
  return guarded([=] {
    ThreadProfile& t = tls;
    int32_t n = int32_t(t.touched.size());
    for (int32_t i = 0; i < n; ++i) {
      Node& node = t.nodes[t.touched[i]];
      if (i < cap) {
        ids[i] = t.touched[i];
        calls[i] = node.calls;
        total_ns[i] = node.total_ns;
        self_ns[i] = node.self_ns;
      }
      node.calls = node.total_ns = node.self_ns = 0;
      node.touched = false;
    }
    t.touched.clear();
    *touched = n;
    return kOk;
  });
}

/// Returns the first fault since the last call (kOk when none) and clears it, copying its
/// message, NUL-terminated and cut to `text_cap` bytes, into `text`.
int infertop_prof_take_fault(char* text, size_t text_cap) noexcept {
  ThreadProfile& t = tls;
  int fault = t.fault;
  if (text != nullptr && text_cap > 0) std::snprintf(text, text_cap, "%s", t.fault_text);
  t.fault = kOk;
  t.fault_text[0] = '\0';
  return fault;
}

/// The shim's clock (CLOCK_MONOTONIC, ns): spans are on it.
uint64_t infertop_prof_now_ns() noexcept { return now_ns(); }

/// Starts keeping a span for every frame this thread closes (recording must be on), with room
/// for `reserve` spans made beforehand so that the traced inference does not grow the buffer;
/// clears the count of ops seen on threads that do not record.
int infertop_trace_begin(uint64_t reserve) noexcept {
  return guarded([reserve] {
    ThreadProfile& t = tls;
    if (!t.enabled) return kErrNotRecording;
    t.spans.clear();
    t.spans.reserve(size_t(reserve));
    if (!t.tracing) g_tracers.fetch_add(1, std::memory_order_relaxed);
    t.tracing = true;
    g_foreign_ops.store(0, std::memory_order_relaxed);
    return kOk;
  });
}

/// Stops keeping spans; returns how many were kept (read them with infertop_trace_spans) and
/// sets `*foreign` to the ops seen on threads that do not record since infertop_trace_begin.
int64_t infertop_trace_end(uint64_t* foreign) noexcept {
  ThreadProfile& t = tls;
  if (t.tracing) g_tracers.fetch_sub(1, std::memory_order_relaxed);
  t.tracing = false;
  if (foreign != nullptr) *foreign = g_foreign_ops.load(std::memory_order_relaxed);
  return int64_t(t.spans.size());
}

/// Copies up to `cap` kept spans, in the order their frames closed, into the arrays, then
/// forgets them all.
int infertop_trace_spans(int32_t* nodes, uint64_t* start_ns, uint64_t* end_ns, uint64_t* child_ns,
                         uint64_t cap) noexcept {
  if (cap > 0 && (!nodes || !start_ns || !end_ns || !child_ns)) return kErrBadArgument;
  ThreadProfile& t = tls;
  size_t n = std::min(size_t(cap), t.spans.size());
  for (size_t i = 0; i < n; ++i) {
    nodes[i] = t.spans[i].node;
    start_ns[i] = t.spans[i].start_ns;
    end_ns[i] = t.spans[i].end_ns;
    child_ns[i] = t.spans[i].child_ns;
  }
  t.spans.clear();
  return kOk;
}

/// Tests only: the `n`th node created on this thread from now on fails as if the heap were
/// full (0: none).
void infertop_prof_fail_node_creation(int32_t n) noexcept { tls.failing_creation = n; }

}  // extern "C"
