// Tests only: saves a small TorchScript model with nested submodules, built with libtorch's C++
// API (no Python here), so the tests can check that scripted models get one layer per module.
// tch's tracing makes flat modules, which would not exercise that.
#include <torch/script.h>

#include <cstdio>
#include <exception>
#include <initializer_list>
#include <utility>

namespace {

using torch::jit::Module;

// A module of class `__torch__.<type>` with `params` (name, tensor) whose forward is `body`
// (TorchScript source); attributes must exist before the source that reads them is compiled.
Module scripted(const char* type, std::initializer_list<std::pair<const char*, at::Tensor>> params,
                const char* body) {
  Module m(std::string("__torch__.") + type);
  for (const auto& [name, value] : params) m.register_parameter(name, value, false);
  m.define(std::string("def forward(self, x):\n    return ") + body + "\n");
  return m;
}

// features: conv (3->8, 3x3, stride 2, pad 1) -> bn -> act -> dw (8->8, 3x3, groups 8);
// then a global average pool in the model itself, and fc (8->10).
Module build() {
  torch::NoGradGuard no_grad;
  Module conv = scripted("Conv", {{"weight", torch::randn({8, 3, 3, 3})}, {"bias", torch::randn({8})}},
                         "torch.conv2d(x, self.weight, self.bias, [2, 2], [1, 1], [1, 1], 1)");
  Module bn = scripted("BatchNorm",
                       {{"weight", torch::ones({8})},
                        {"bias", torch::zeros({8})},
                        {"mean", torch::zeros({8})},
                        {"var", torch::ones({8})}},
                       "torch.batch_norm(x, self.weight, self.bias, self.mean, self.var, False, 0.1, "
                       "1e-5, False)");
  Module act = scripted("ReLU", {}, "torch.relu(x)");
  Module dw = scripted("DepthwiseConv", {{"weight", torch::randn({8, 1, 3, 3})}},
                       "torch.conv2d(x, self.weight, None, [1, 1], [1, 1], [1, 1], 8)");
  Module features("__torch__.Features");
  features.register_module("conv", conv);
  features.register_module("bn", bn);
  features.register_module("act", act);
  features.register_module("dw", dw);
  features.define(
      "def forward(self, x):\n"
      "    return self.dw.forward(self.act.forward(self.bn.forward(self.conv.forward(x))))\n");
  Module fc = scripted("Linear", {{"weight", torch::randn({10, 8})}, {"bias", torch::randn({10})}},
                       "torch.linear(x, self.weight, self.bias)");
  Module net("__torch__.Net");
  net.register_module("features", features);
  net.register_module("fc", fc);
  net.define(
      "def forward(self, x):\n"
      "    y = torch.flatten(torch.adaptive_avg_pool2d(self.features.forward(x), [1, 1]), 1)\n"
      "    return self.fc.forward(y)\n");
  return net;
}

}  // namespace

extern "C" {

/// Saves the model to `path` (input [batch, 3, H, W]); 0 on success, otherwise -1 with the
/// reason in `error` (NUL-terminated, cut to `error_cap` bytes).
int infertop_test_save_scripted_net(const char* path, char* error, size_t error_cap) noexcept {
  try {
    build().save(path);
    return 0;
  } catch (const std::exception& e) {
    if (error != nullptr && error_cap > 0) std::snprintf(error, error_cap, "%s", e.what());
    return -1;
  } catch (...) {
    if (error != nullptr && error_cap > 0) std::snprintf(error, error_cap, "unknown C++ exception");
    return -1;
  }
}

}  // extern "C"
