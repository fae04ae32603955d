//! What a manifest entry may hold: its keys and the limits on its values. Apart from the
//! manifest so that its error messages can name them without importing the manifest.

/// Every key a `[[model]]` table may hold; must match the fields of `RawModel`.
pub const KEYS: [&str; 11] = [
    "name",
    "arch",
    "torchscript",
    "input",
    "batch",
    "enabled",
    "weights",
    "top1_error",
    "top5_error",
    "notes",
    "variants",
];

/// What `input` must look like, for error messages.
pub const INPUT_HINT: &str = "3 positive integers [channels, height, width], e.g. [3, 32, 32]";

/// The largest batch a model may run with, in the manifest and on the command line.
pub const MAX_BATCH: i64 = 4096;

/// The largest input one inference may take (batch included), in bytes of fp32. A model's
/// activations are many times its input, so anything larger would exhaust a board's memory or
/// take minutes per inference; 256 MiB is 5,000 CIFAR batches of 32x32 or 170 images at 1080p.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;
