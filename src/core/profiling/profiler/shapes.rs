//! The shapes the calibration pass saw per op (`OpShapes` in `calibration.h`): the first tensor
//! input, the first output, and for convolutions the weight and the stride, padding, dilation
//! and groups arguments.

use std::fmt::Write as _;

use super::ffi;

/// A tensor's sizes, `[1, 64, 8, 8]`.
pub type Shape = Vec<i64>;

/// A convolution's geometry, read from its arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvGeometry {
    /// `[out channels, in channels / groups, kh, kw]`.
    pub weight: Shape,
    /// Empty when the op was given no list (`padding="same"`).
    pub stride: Vec<i64>,
    pub padding: Vec<i64>,
    pub dilation: Vec<i64>,
    pub groups: i64,
}

impl ConvGeometry {
    /// The kernel's spatial size (`[3, 3]`): the weight's sizes after the two channel counts.
    #[must_use]
    pub fn kernel(&self) -> &[i64] {
        self.weight.get(2..).unwrap_or(&[])
    }
}

/// What one op's first call in the calibration pass was given and returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpShapes {
    /// The first tensor input (for a tensor list such as `cat`'s, its first tensor).
    pub input: Option<Shape>,
    /// The first output.
    pub output: Option<Shape>,
    /// Set for `aten::conv1d/2d/3d`, `aten::convolution` and `aten::_convolution`.
    pub conv: Option<ConvGeometry>,
}

/// Sizes joined by `x` (`1x64x8x8`), as the tables and `layers.csv` show a shape.
#[must_use]
pub fn dims_text(dims: &[i64]) -> String {
    let mut out = String::new();
    for (i, d) in dims.iter().enumerate() {
        let _ = write!(out, "{}{d}", if i > 0 { "x" } else { "" });
    }
    out
}

/// The first `rank` entries of `dims`, `None` for an unknown (negative) rank.
fn dims(rank: i64, dims: &[i64]) -> Option<Shape> {
    let rank = usize::try_from(rank).ok()?;
    dims.get(..rank).map(<[i64]>::to_vec)
}

/// The first `len` entries (clamped to what the shim keeps).
fn list(len: i64, values: &[i64]) -> Vec<i64> {
    values[..usize::try_from(len).unwrap_or(0).min(values.len())].to_vec()
}

/// The shapes the shim keeps for each call of node `id` in the calibration pass, in order (empty
/// for a scope or an op the pass did not reach).
pub(super) fn node_call_shapes(id: i32) -> Vec<OpShapes> {
    (0..).map_while(|call| node_shapes(id, call)).collect()
}

/// The shapes the shim keeps for call `call` of node `id`, `None` when it has none.
fn node_shapes(id: i32, call: u64) -> Option<OpShapes> {
    let raw = ffi::node_shapes(id, call)?;
    let conv = (raw.is_conv != 0).then(|| ConvGeometry {
        weight: dims(raw.weight_rank, &raw.weight).unwrap_or_default(),
        stride: list(raw.stride_len, &raw.stride),
        padding: list(raw.padding_len, &raw.padding),
        dilation: list(raw.dilation_len, &raw.dilation),
        groups: raw.groups,
    });
    Some(OpShapes { input: dims(raw.input_rank, &raw.input), output: dims(raw.output_rank, &raw.output), conv })
}

/// Whether ops the `TorchScript` interpreter runs are placed under one scope per module (the
/// default) on this thread; off only to measure what following the modules costs.
pub fn follow_modules(on: bool) {
    // SAFETY: no pointers; sets a flag of the calling thread.
    unsafe { ffi::infertop_prof_follow_modules(i32::from(on)) }
}

/// Tests only: saves a small `TorchScript` model with nested submodules to `path` (built with
/// libtorch's C++ API in `scripted_net.cpp`; input `[batch, 3, H, W]`): `features` (`conv`
/// 3→8 3x3 stride 2 padding 1, `bn`, `act` (ReLU), `dw` 8→8 3x3 groups 8), a global average
/// pool in the model itself, then `fc` (8→10).
///
/// # Errors
/// libtorch's reason when it cannot build or save the model.
#[doc(hidden)]
pub fn save_scripted_test_net(path: &std::path::Path) -> Result<(), String> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    let mut error = [0u8; 512];
    // SAFETY: a NUL-terminated path; the shim writes at most `error.len()` bytes, NUL-terminated.
    let rc = unsafe { ffi::infertop_test_save_scripted_net(c_path.as_ptr(), error.as_mut_ptr().cast(), error.len()) };
    if rc == 0 {
        return Ok(());
    }
    let text = std::ffi::CStr::from_bytes_until_nul(&error).map(|c| c.to_string_lossy().into_owned());
    Err(text.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_read_as_x_joined_sizes() {
        assert_eq!(dims_text(&[1, 64, 8, 8]), "1x64x8x8");
        assert_eq!(dims_text(&[]), "");
        assert_eq!(dims(-1, &[1, 2]), None);
        assert_eq!(list(9, &[1, 2]), vec![1, 2]);
        let conv = ConvGeometry { weight: vec![8, 1, 3, 3], ..ConvGeometry::default() };
        assert_eq!(conv.kernel(), &[3, 3]);
    }
}
