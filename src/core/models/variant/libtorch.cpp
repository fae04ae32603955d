// What the what-if variants need from libtorch that tch does not expose: the oneDNN switch and
// TorchScript's freeze and optimize-for-inference passes (which fold BatchNorm into the
// convolution before it, among other things) with a handle to run the result.
//
// A frozen module is kept here behind an opaque handle and run here, rather than saved and
// reloaded through tch: optimize-for-inference may turn constants into oneDNN tensors, which
// TorchScript cannot serialise. Tensors cross the C ABI as tch passes them (`at::Tensor*`, which
// Rust owns and frees with tch's own `at_free`).
//
// As in the profiler shim, no C++ exception may unwind into Rust: every entry point is noexcept
// and reports failure as a null result with the message copied into the caller's buffer.
#include <ATen/Context.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/serialization/import.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

namespace {

void set_error(char* error, size_t len, const char* what) noexcept {
  if (error != nullptr && len > 0) {
    std::snprintf(error, len, "%s", what);
  }
}

template <class Body>
auto guarded(char* error, size_t len, Body&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const c10::Error& e) {
    set_error(error, len, e.what_without_backtrace());
  } catch (const std::exception& e) {
    set_error(error, len, e.what());
  } catch (...) {
    set_error(error, len, "unknown C++ exception");
  }
  return decltype(body()){};
}

// Whether `block` (or a block nested in it) calls `kind`.
bool calls(const torch::jit::Block* block, c10::Symbol kind) {
  for (const torch::jit::Node* node : block->nodes()) {
    if (node->kind() == kind) {
      return true;
    }
    for (const torch::jit::Block* inner : node->blocks()) {
      if (calls(inner, kind)) {
        return true;
      }
    }
  }
  return false;
}

// `forward` of `module` with every method call inlined, so submodules' ops are seen.
std::shared_ptr<torch::jit::Graph> inlined_forward(const torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph()->copy();
  torch::jit::Inline(*graph);
  return graph;
}

}  // namespace

extern "C" {

// 1 when this libtorch has oneDNN (mkldnn), 0 when not.
int infertop_mkldnn_available() noexcept { return at::hasMKLDNN() ? 1 : 0; }

// Turns oneDNN on (1) or off (0) for every thread; returns the previous setting.
int infertop_set_mkldnn(int enabled) noexcept {
  at::Context& context = at::globalContext();
  const bool before = context.userEnabledMkldnn();
  context.setUserEnabledMkldnn(enabled != 0);
  return before ? 1 : 0;
}

// Whether the TorchScript file's forward (inlined) calls aten::batch_norm: 2 when it does, 1
// when it does not, 0 on failure (message in `error`).
int infertop_script_has_batch_norm(const char* path, char* error, size_t len) noexcept {
  return guarded(error, len, [&]() -> int {
    torch::jit::Module module = torch::jit::load(path, c10::Device(c10::kCPU));
    return calls(inlined_forward(module)->block(), c10::Symbol::fromQualString("aten::batch_norm")) ? 2 : 1;
  });
}

// Loads the TorchScript file in eval mode, freezes it (BatchNorm folded into the convolution
// before it, constants propagated) and optimises it for inference. Null on failure.
void* infertop_script_freeze(const char* path, char* error, size_t len) noexcept {
  return guarded(error, len, [&]() -> void* {
    torch::jit::Module module = torch::jit::load(path, c10::Device(c10::kCPU));
    module.eval();
    torch::jit::Module frozen = torch::jit::freeze(module);
    torch::jit::Module optimized = torch::jit::optimize_for_inference(frozen);
    return new torch::jit::Module(std::move(optimized));
  });
}

// Runs the frozen module's forward on `input`; the output tensor (owned by the caller, freed
// with tch's at_free) or null on failure.
void* infertop_frozen_forward(void* handle, const at::Tensor* input, char* error, size_t len) noexcept {
  return guarded(error, len, [&]() -> void* {
    auto* module = static_cast<torch::jit::Module*>(handle);
    std::vector<c10::IValue> inputs{*input};
    c10::IValue output = module->forward(inputs);
    if (!output.isTensor()) {
      set_error(error, len, "forward returned no tensor");
      return nullptr;
    }
    return new at::Tensor(output.toTensor());
  });
}

void infertop_frozen_free(void* handle) noexcept { delete static_cast<torch::jit::Module*>(handle); }

// `tensor` in channels-last memory format (a copy unless it already is), owned by the caller;
// null on failure (a tensor that is not 4-D).
void* infertop_channels_last(const at::Tensor* tensor, char* error, size_t len) noexcept {
  return guarded(error, len, [&]() -> void* {
    return new at::Tensor(tensor->contiguous(at::MemoryFormat::ChannelsLast));
  });
}

// 1 when `tensor` is laid out channels-last, else 0 (a 1x1 kernel or a one-channel tensor is
// both channels-last and plain contiguous).
int infertop_is_channels_last(const at::Tensor* tensor) noexcept {
  return guarded(nullptr, 0, [&]() -> int { return tensor->is_contiguous(at::MemoryFormat::ChannelsLast) ? 1 : 0; });
}

}  // extern "C"
