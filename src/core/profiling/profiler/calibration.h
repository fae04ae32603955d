// What the calibration pass reads off an op's inputs and outputs: MACs, bytes, and the shapes
// (with a convolution's geometry) that layers.csv shows. Only the calibration callbacks call
// these: reading inputs and outputs is what makes that pass slow.
#pragma once

#include <ATen/core/ivalue.h>

#include <cstdint>
#include <vector>

namespace infertop {

constexpr int kMaxDims = 8;     // more dims than this: the shape is left unknown
constexpr int kMaxSpatial = 4;  // entries kept of stride, padding and dilation
constexpr size_t kMaxCallShapes = 1024;  // calls per op node whose shapes are kept (~350 B each)

// The shapes of one calibrated call of an op, mirrored by `RawShapes` in profiler/ffi.rs
// (all fields 64-bit, so both sides lay it out alike). A rank of -1 is unknown.
struct OpShapes {
  int64_t input_rank = -1;  // the first tensor input (the first tensor of a tensor list)
  int64_t input[kMaxDims] = {};
  int64_t output_rank = -1;  // the first output
  int64_t output[kMaxDims] = {};
  int64_t is_conv = 0;  // 1 when the fields below were read from a convolution's arguments
  int64_t weight_rank = -1;
  int64_t weight[kMaxDims] = {};
  int64_t stride_len = 0, padding_len = 0, dilation_len = 0;  // 0: not read (`padding="same"`)
  int64_t stride[kMaxSpatial] = {};
  int64_t padding[kMaxSpatial] = {};
  int64_t dilation[kMaxSpatial] = {};
  int64_t groups = 0;
};

// Bytes a tensor or tensor list occupies; 0 for anything else.
double tensor_bytes(const c10::IValue& v);

// MACs per element of the first output (convolutions, linear and matrix products); 0 otherwise.
double macs_per_output(const char* name, c10::ArrayRef<const c10::IValue> in);

// Fills the input shape and, for aten::conv*/convolution/_convolution, the geometry.
void read_inputs(const char* name, c10::ArrayRef<const c10::IValue> in, OpShapes& shapes);

// Fills the output shape from the first output.
void read_output(const std::vector<c10::IValue>& out, OpShapes& shapes);

}  // namespace infertop
