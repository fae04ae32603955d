//! Builds the op-profiler shim against the libtorch that torch-sys (under `tch`) found, and gives
//! every binary an rpath to it, so nothing needs `LD_LIBRARY_PATH` at run time.
//!
//! torch-sys does the lookup (`LIBTORCH`, `LIBTORCH_USE_PYTORCH`, a system install, …) and
//! exports its lib folder as `DEP_TCH_LIBTORCH_LIB` (it has `links = "tch"`; only packages that
//! depend on it directly see that, hence torch-sys in our `[dependencies]`). It exports neither
//! its include folders nor the C++11 ABI it compiled with: those are derived here by torch-sys's
//! own rules (torch-sys 0.26.0, `build.rs`, `SystemInfo::new`).
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// torch-sys's `_GLIBCXX_USE_CXX11_ABI` when neither `LIBTORCH_USE_PYTORCH` nor
/// `LIBTORCH_CXX11_ABI` says otherwise. Ours must be the same, or the shim would disagree with
/// the libtorch that tch links about the layout of `std::string`.
const TORCH_SYS_DEFAULT_CXX11_ABI: &str = "1";

/// The shim's sources: the op callbacks and the tree (`shim.cpp`), what calibration reads off
/// inputs and outputs, the `TorchScript` module lookup, and a scripted model for the tests.
const SHIM_FILES: &[&str] = &["shim.cpp", "calibration.cpp", "modules.cpp", "scripted_net.cpp"];
const SHIM_HEADERS: &[&str] = &["calibration.h", "modules.h"];

fn main() -> ExitCode {
    match build() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: building infertop's profiler shim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn build() -> Result<(), String> {
    for file in SHIM_FILES.iter().chain(SHIM_HEADERS) {
        println!("cargo:rerun-if-changed=src/core/profiling/profiler/{file}");
    }
    println!("cargo:rerun-if-changed=src/core/models/variant/libtorch.cpp");
    let lib = env("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from).ok_or(
        "torch-sys exported no libtorch folder (DEP_TCH_LIBTORCH_LIB): it needs to be a direct \
         dependency, built without its doc-only feature",
    )?;
    let pytorch = env("LIBTORCH_USE_PYTORCH").is_some();
    let include = include_dir(&lib, pytorch)?;
    let abi = if pytorch { python_cxx11_abi()? } else { cxx11_abi() };
    cc::Build::new()
        .cpp(true)
        .files(SHIM_FILES.iter().map(|f| format!("src/core/profiling/profiler/{f}")))
        .file("src/core/models/variant/libtorch.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++20")
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        // libtorch is built with NDEBUG, and some of its structs (RecordFunction) have
        // debug-only members: without it our view of their layout would differ from libtorch's.
        .define("NDEBUG", None)
        .flag_if_supported("-Wno-unused-parameter")
        .opt_level(2)
        .try_compile("infertop_profiler_shim")
        .map_err(|e| e.to_string())?;
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // The version a libtorch download records beside its lib folder, shown in run metadata.
    let version = lib
        .parent()
        .and_then(|root| std::fs::read_to_string(root.join("build-version")).ok())
        .map_or_else(|| "unknown".into(), |v| v.trim().to_string());
    println!("cargo:rustc-env=INFERTOP_LIBTORCH_VERSION={version}");
    Ok(())
}

/// An environment variable, with a note to cargo to rerun when it changes.
fn env(name: &str) -> Option<String> {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name).ok()
}

/// The folder with libtorch's headers. torch-sys takes them from `$LIBTORCH_INCLUDE/include`
/// when that is set (and `LIBTORCH_USE_PYTORCH` is not), otherwise from the folder that holds
/// the lib folder: `$LIBTORCH/include`, or Python's `torch/include` beside `torch/lib`.
fn include_dir(lib: &Path, pytorch: bool) -> Result<PathBuf, String> {
    let own = if pytorch { None } else { env("LIBTORCH_INCLUDE") };
    let root = match own {
        Some(dir) => PathBuf::from(dir),
        None => lib
            .parent()
            .ok_or_else(|| format!("torch-sys's libtorch folder {} has no parent", lib.display()))?
            .to_path_buf(),
    };
    let include = root.join("include");
    let probe = include.join("ATen/record_function.h");
    if probe.is_file() {
        Ok(include)
    } else {
        Err(format!("no libtorch headers where torch-sys's settings point: {} is missing", probe.display()))
    }
}

/// The `_GLIBCXX_USE_CXX11_ABI` torch-sys compiles with for a libtorch folder:
/// `LIBTORCH_CXX11_ABI`, otherwise its default.
fn cxx11_abi() -> String {
    env("LIBTORCH_CXX11_ABI").unwrap_or_else(|| TORCH_SYS_DEFAULT_CXX11_ABI.into())
}

/// The `_GLIBCXX_USE_CXX11_ABI` torch-sys compiles with under `LIBTORCH_USE_PYTORCH`: what the
/// Python interpreter it runs reports (`python` in a virtualenv, else `python3`).
fn python_cxx11_abi() -> Result<String, String> {
    let python = if env("VIRTUAL_ENV").is_some() { "python" } else { "python3" };
    let out = Command::new(python)
        .args(["-c", "import torch; print(torch._C._GLIBCXX_USE_CXX11_ABI)"])
        .output()
        .map_err(|e| format!("LIBTORCH_USE_PYTORCH is set but `{python}` does not run: {e}"))?;
    match String::from_utf8_lossy(&out.stdout).trim() {
        "True" => Ok("1".into()),
        "False" => Ok("0".into()),
        _ => Err(format!(
            "LIBTORCH_USE_PYTORCH is set but `{python}` did not report torch's C++11 ABI: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}
