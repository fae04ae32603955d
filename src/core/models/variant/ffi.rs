//! The C ABI of `libtorch.cpp`: the `oneDNN` switch and frozen `TorchScript` modules.

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::Path;

use tch::Tensor;

use crate::core::common::oneline::one_line;

extern "C" {
    fn infertop_mkldnn_available() -> c_int;
    fn infertop_set_mkldnn(enabled: c_int) -> c_int;
    fn infertop_script_has_batch_norm(path: *const c_char, error: *mut c_char, len: usize) -> c_int;
    fn infertop_script_freeze(path: *const c_char, error: *mut c_char, len: usize) -> *mut c_void;
    fn infertop_frozen_forward(
        handle: *mut c_void,
        input: *const torch_sys::C_tensor,
        error: *mut c_char,
        len: usize,
    ) -> *mut torch_sys::C_tensor;
    fn infertop_frozen_free(handle: *mut c_void);
    fn infertop_channels_last(
        tensor: *const torch_sys::C_tensor,
        error: *mut c_char,
        len: usize,
    ) -> *mut torch_sys::C_tensor;
    fn infertop_is_channels_last(tensor: *const torch_sys::C_tensor) -> c_int;
}

/// Room for libtorch's message (first line kept).
const ERROR_LEN: usize = 512;

/// Whether this libtorch was built with `oneDNN`.
#[must_use]
pub fn mkldnn_available() -> bool {
    // SAFETY: reads a constant of libtorch's build.
    unsafe { infertop_mkldnn_available() != 0 }
}

/// Switches `oneDNN` on or off for the whole process.
pub fn set_mkldnn(enabled: bool) {
    // SAFETY: sets one flag of libtorch's global context; cannot fail.
    unsafe { infertop_set_mkldnn(c_int::from(enabled)) };
}

/// Runs `call` with an error buffer and returns its result with the message it left.
fn with_error<T>(call: impl FnOnce(*mut c_char, usize) -> T) -> (T, String) {
    let mut buf = vec![0u8; ERROR_LEN];
    let out = call(buf.as_mut_ptr().cast(), buf.len());
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    (out, one_line(&String::from_utf8_lossy(&buf[..end])))
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| "the path holds a NUL byte".to_string())
}

/// Whether the `TorchScript` file's forward pass calls `aten::batch_norm` (submodules inlined).
///
/// # Errors
/// A file libtorch cannot load, as libtorch's first line.
pub fn script_has_batch_norm(path: &Path) -> Result<bool, String> {
    let path = c_path(path)?;
    // SAFETY: a valid C string and a buffer of the given length; the call catches everything.
    let (answer, error) = with_error(|e, len| unsafe { infertop_script_has_batch_norm(path.as_ptr(), e, len) });
    match answer {
        2 => Ok(true),
        1 => Ok(false),
        _ => Err(error),
    }
}

/// A `TorchScript` module after libtorch's freeze and optimize-for-inference passes, owned here.
#[derive(Debug)]
pub struct FrozenScript {
    handle: *mut c_void,
}

// SAFETY: the module is only used by one thread at a time (the engine's); libtorch modules may
// move between threads.
unsafe impl Send for FrozenScript {}

impl FrozenScript {
    /// Loads, freezes and optimises the file.
    ///
    /// # Errors
    /// libtorch's reason, in one line.
    pub fn load(path: &Path) -> Result<Self, String> {
        let path = c_path(path)?;
        // SAFETY: as above; a non-null result is a module this value now owns.
        let (handle, error) = with_error(|e, len| unsafe { infertop_script_freeze(path.as_ptr(), e, len) });
        if handle.is_null() {
            Err(error)
        } else {
            Ok(Self { handle })
        }
    }

    /// One forward pass.
    ///
    /// # Errors
    /// libtorch's error (a wrong input shape, say).
    pub fn forward(&self, input: &Tensor) -> Result<Tensor, tch::TchError> {
        // SAFETY: the handle is live; `input` outlives the call; a non-null result is a new
        // tensor that tch owns from here (freed with its own `at_free`).
        let (out, error) = with_error(|e, len| unsafe { infertop_frozen_forward(self.handle, input.as_ptr(), e, len) });
        if out.is_null() {
            Err(tch::TchError::Torch(error))
        } else {
            // SAFETY: see above.
            Ok(unsafe { Tensor::from_ptr(out) })
        }
    }
}

impl Drop for FrozenScript {
    fn drop(&mut self) {
        // SAFETY: the handle came from infertop_script_freeze and is freed once.
        unsafe { infertop_frozen_free(self.handle) }
    }
}

/// `tensor` in channels-last (NHWC) memory format, same shape and values.
///
/// # Errors
/// libtorch's reason (a tensor that is not 4-D).
pub fn channels_last(tensor: &Tensor) -> Result<Tensor, tch::TchError> {
    // SAFETY: `tensor` outlives the call; a non-null result is a new tensor tch owns from here.
    let (out, error) = with_error(|e, len| unsafe { infertop_channels_last(tensor.as_ptr(), e, len) });
    if out.is_null() {
        Err(tch::TchError::Torch(error))
    } else {
        // SAFETY: see above.
        Ok(unsafe { Tensor::from_ptr(out) })
    }
}

/// Whether `tensor` is laid out channels-last (for a 1x1 kernel or one channel, both layouts
/// are the same and this is true).
#[must_use]
pub fn is_channels_last(tensor: &Tensor) -> bool {
    // SAFETY: reads the tensor's strides.
    unsafe { infertop_is_channels_last(tensor.as_ptr()) != 0 }
}
