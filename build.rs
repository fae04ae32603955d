//! Builds the op-profiler shim against the same libtorch that `tch` uses and gives every
//! binary an rpath to it, so nothing needs `LD_LIBRARY_PATH` at run time.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=src/core/profiler/shim.cpp");
    let Some(libtorch) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        panic!(
            "LIBTORCH is not set: run `make` (it fetches libtorch), or set LIBTORCH to the folder \
             printed by scripts/fetch-libtorch.sh"
        );
    };
    let lib = libtorch.join("lib");
    // The version our fetch script recorded, shown in run metadata.
    let version = std::fs::read_to_string(libtorch.join("build-version"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=INFERTOP_LIBTORCH_VERSION={version}");
    let include = libtorch.join("include");
    cc::Build::new()
        .cpp(true)
        .file("src/core/profiler/shim.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++20")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        // libtorch is built with NDEBUG, and some of its structs (RecordFunction) have
        // debug-only members: without it our view of their layout would differ from libtorch's.
        .define("NDEBUG", None)
        .flag_if_supported("-Wno-unused-parameter")
        .opt_level(2)
        .compile("infertop_profiler_shim");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
