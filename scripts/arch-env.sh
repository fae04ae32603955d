#!/usr/bin/env bash
# arch-env.sh ARCH: provisions what building infertop for ARCH (x86_64 or aarch64) on this machine
# needs and prints it as `export` lines for the Makefile to eval; progress goes to stderr.
#
# - ARCH is this machine's: LIBTORCH (kept when already set), nothing else; cargo builds natively.
# - aarch64 on x86_64: the aarch64 libtorch, the cross toolchain and emulator
#   (cross-aarch64.sh), and cargo settings so that plain `cargo build` / `cargo test` cross-build
#   into target/cross and run the results under qemu. Emulated runs keep their measured peak
#   GMAC/s in a cache of their own, never in the user's real one.
# Always also INFERTOP_RELEASE_BIN, where `cargo build --release` leaves the binary.
set -euo pipefail

say() { echo "arch-env: $*" >&2; }
die() { say "$*"; exit 1; }
[ $# -eq 1 ] || die "usage: arch-env.sh x86_64|aarch64"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
host="$(uname -m)"
arch="$1"
case "$arch" in
  amd64) arch=x86_64 ;;
  arm64) arch=aarch64 ;;
esac
cache_root="${INFERTOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infertop}"

if [ "$arch" = "$host" ]; then
  libtorch="${LIBTORCH:-$(bash "$here/fetch-libtorch.sh" "$arch")}"
  [ -n "$libtorch" ] || die "no libtorch"
  printf 'export LIBTORCH=%q\n' "$libtorch"
  printf 'export INFERTOP_RELEASE_BIN=%q\n' "$root/target/release/infertop"
  exit 0
fi

[ "$host-$arch" = x86_64-aarch64 ] ||
  die "building for $arch on $host is not set up (aarch64 from x86_64 is; any machine builds for itself)"
# The cross toolchain first: provisioning the aarch64 libtorch compiles its BLAS stand-in with it.
cross="$(bash "$here/cross-aarch64.sh")"
libtorch="$(bash "$here/fetch-libtorch.sh" aarch64)"
[ -n "$libtorch" ] || die "no libtorch for aarch64"
target=aarch64-unknown-linux-gnu
target_dir="$root/target/cross"
echo "$cross"
printf 'export LIBTORCH=%q\n' "$libtorch"
printf 'export CARGO_BUILD_TARGET=%q\n' "$target"
printf 'export CARGO_TARGET_DIR=%q\n' "$target_dir"
# -Zbuild-std: the standard library for aarch64 from the rust-src that cross-aarch64.sh unpacked.
echo 'export CARGO_UNSTABLE_BUILD_STD=std'
# The scripts keep using the real cache; only infertop's own cache (XDG_CACHE_HOME) moves.
printf 'export INFERTOP_CACHE=%q\n' "$cache_root"
printf 'export XDG_CACHE_HOME=%q\n' "$cache_root/emulated-$arch"
printf 'export INFERTOP_RELEASE_BIN=%q\n' "$target_dir/$target/release/infertop"
