// The calibration pass's reading of op inputs and outputs (see calibration.h).
#include "calibration.h"

#include <algorithm>
#include <string_view>

namespace infertop {

namespace {

bool has_tensor(c10::ArrayRef<const c10::IValue> in, size_t i) {
  return in.size() > i && in[i].isTensor() && in[i].toTensor().defined();
}

// Copies a shape into `dims`; the rank, or -1 when it has more dims than there is room for.
int64_t copy_dims(c10::IntArrayRef sizes, int64_t* dims, size_t cap) {
  if (sizes.size() > cap) return -1;
  std::copy(sizes.begin(), sizes.end(), dims);
  return int64_t(sizes.size());
}

// Copies an int-list argument; the entries kept, 0 when it is no int list.
int64_t copy_ints(const c10::IValue& v, int64_t* out) {
  if (!v.isIntList()) return 0;
  const std::vector<int64_t> ints = v.toIntVector();
  const size_t n = std::min(ints.size(), size_t(kMaxSpatial));
  std::copy_n(ints.begin(), n, out);
  return int64_t(n);
}

// Where a convolution op keeps its `groups` argument: aten::conv1d/2d/3d(input, weight, bias,
// stride, padding, dilation, groups); aten::convolution and aten::_convolution(input, weight,
// bias, stride, padding, dilation, transposed, output_padding, groups, ...). 0: not one.
size_t groups_index(std::string_view op) {
  if (op == "aten::conv1d" || op == "aten::conv2d" || op == "aten::conv3d") return 6;
  if (op == "aten::convolution" || op == "aten::_convolution") return 8;
  return 0;
}

}  // namespace

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

// Convolutions: weight [Cout, Cin/groups, kh, kw] gives Cin/groups*kh*kw per output element.
// Matrix products: the shared (inner) dimension.
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

// Copies the sizes of the first tensor of a tensor or tensor list (`cat`'s inputs, `chunk`'s
// outputs) into `dims`; the rank, or -1 when `v` holds none.
static int64_t first_tensor_dims(const c10::IValue& v, int64_t* dims) {
  if (v.isTensor() && v.toTensor().defined()) return copy_dims(v.toTensor().sizes(), dims, kMaxDims);
  if (v.isTensorList()) {
    const c10::List<at::Tensor> list = v.toTensorList();
    if (list.size() > 0 && list.get(0).defined()) return copy_dims(list.get(0).sizes(), dims, kMaxDims);
  }
  return -1;
}

void read_inputs(const char* name, c10::ArrayRef<const c10::IValue> in, OpShapes& shapes) {
  for (const c10::IValue& v : in) {
    if (v.isTensor() || v.isTensorList()) {
      shapes.input_rank = first_tensor_dims(v, shapes.input);
      if (shapes.input_rank >= 0) break;
    }
  }
  const size_t groups = groups_index(name);
  if (groups == 0 || in.size() <= groups || !has_tensor(in, 1) || !in[groups].isInt()) return;
  shapes.is_conv = 1;
  shapes.weight_rank = copy_dims(in[1].toTensor().sizes(), shapes.weight, kMaxDims);
  shapes.stride_len = copy_ints(in[3], shapes.stride);
  shapes.padding_len = copy_ints(in[4], shapes.padding);
  shapes.dilation_len = copy_ints(in[5], shapes.dilation);
  shapes.groups = in[groups].toInt();
}

void read_output(const std::vector<c10::IValue>& out, OpShapes& shapes) {
  if (!out.empty()) shapes.output_rank = first_tensor_dims(out[0], shapes.output);
}

}  // namespace infertop
