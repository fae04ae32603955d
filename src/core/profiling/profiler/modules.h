// The TorchScript modules an op runs in, read from the interpreter (what torch.profiler's
// `with_modules` shows), as the dotted paths infertop's layer scopes use.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace infertop {

// Sets `paths` to one entry per module level below the scripted model itself, outermost first
// (`features`, `features.conv`); empty when the calling op is not run by the interpreter. Reuses
// the strings already in `paths`.
void torchscript_module_paths(std::vector<std::string>& paths);

// One thread's view of the modules its ops ran in: the paths of the module scope frames it has
// open, and what the top-level ops after each scope ran in last time, so that a run that goes
// the same way as the last one does not ask the interpreter again.
class ModuleTracker {
 public:
  // Paths of the module scope frames open on top of the thread's stack, outermost first.
  std::vector<std::string> open;

  // A scope (node `node`) was opened: the top-level ops after it are counted from 0.
  void entered_scope(int32_t node);

  // The module paths of the top-level op `op` starting now: last run's, when the same op came
  // at this place after the same scope; otherwise (the first run, or the ops went another way)
  // asked of the interpreter and kept for the next run. Valid until the next call.
  const std::vector<std::string>& paths_of(const char* op);

  // The stack was dropped: no module frame is open, no scope was entered.
  void forget_stack() noexcept {
    open.clear();
    steps_ = nullptr;
  }

 private:
  // A top-level op (its name's address: op names live in operator schemas) and its paths.
  struct Step {
    const char* op;
    std::vector<std::string> paths;
  };
  std::unordered_map<int32_t, std::vector<Step>> by_scope_;
  std::vector<Step>* steps_ = nullptr;  // the entered scope's (entries of an unordered_map stay put)
  size_t step_ = 0;
  std::vector<std::string> looked_up_;
};

}  // namespace infertop
