// The TorchScript modules an op runs in, read from the interpreter (what torch.profiler's
// `with_modules` shows), as the dotted paths infertop's layer scopes use.
#pragma once

#include <string>
#include <vector>

namespace infertop {

// Sets `paths` to one entry per module level below the scripted model itself, outermost first
// (`features`, `features.conv`); empty when the calling op is not run by the interpreter. Reuses
// the strings already in `paths`.
void torchscript_module_paths(std::vector<std::string>& paths);

}  // namespace infertop
