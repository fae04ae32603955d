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

}  // namespace infertop
