// See modules.h.
#include "modules.h"

#include <torch/csrc/jit/runtime/interpreter.h>

#include <string_view>

namespace infertop {

void torchscript_module_paths(std::vector<std::string>& paths) {
  // One entry per level, `instance(Type)::method`: `TOP(Net)::forward` for the model itself,
  // then `features(Block)::forward`, `conv(Conv2d)::forward`. Empty outside the interpreter,
  // which costs a thread-local read.
  const std::vector<std::string> levels = torch::jit::currentModuleHierarchy();
  size_t n = 0;
  for (size_t i = 1; i < levels.size(); ++i) {
    const std::string_view level(levels[i]);
    const std::string_view instance = level.substr(0, level.find('('));
    // A method calling another of its own module adds no level.
    if (instance.empty() || instance == "SELF" || instance == "TOP") continue;
    if (paths.size() <= n) paths.emplace_back();
    std::string& path = paths[n];
    if (n == 0) {
      path.assign(instance);
    } else {
      path.assign(paths[n - 1]).append(".").append(instance);
    }
    ++n;
  }
  paths.resize(n);
}

void ModuleTracker::entered_scope(int32_t node) {
  steps_ = &by_scope_[node];
  step_ = 0;
}

const std::vector<std::string>& ModuleTracker::paths_of(const char* op) {
  const size_t k = step_++;
  if (steps_ != nullptr && k < steps_->size() && (*steps_)[k].op == op) return (*steps_)[k].paths;
  torchscript_module_paths(looked_up_);
  if (steps_ != nullptr && k <= steps_->size()) {
    steps_->resize(k);
    steps_->push_back(Step{op, looked_up_});
  }
  return looked_up_;
}

}  // namespace infertop
