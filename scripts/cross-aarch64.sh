#!/usr/bin/env bash
# Provision what building infertop for aarch64 on an x86_64 Debian machine and running it there
# under emulation needs, then print the environment for cargo as `export` lines on stdout
# (progress goes to stderr). Used as: eval "$(bash scripts/cross-aarch64.sh)".
#
# - C/C++ compiler and linker: Debian's g++-aarch64-linux-gnu (apt-get install, as root).
# - The Rust standard library for aarch64, compiled from source (cargo -Zbuild-std under
#   RUSTC_BOOTSTRAP=1): rustup cannot fetch a target here, and Debian's own rustc is older than
#   sysinfo 0.40 needs. The source is Debian's rust-src package of exactly this machine's rustc
#   version (trixie-backports carries several), unpacked into the per-user cache.
# - An emulator: Debian trixie's static qemu-aarch64 (bookworm's qemu-user 7.2 crashes inside
#   libtorch), unpacked into the cache, emulating the core named by INFERTOP_QEMU_CPU (a qemu
#   `-cpu` model; default cortex-a72, the Raspberry Pi 4 of the study: ARMv8.0, no LSE atomics;
#   cortex-a53 is a Pi 3 or Zero 2 W, cortex-a76 a Pi 5). That runs since fetch-libtorch.sh puts
#   OpenBLAS in place of NVPL's BLAS, which dies of SIGILL on ARMv8.0 cores. Each core gets its
#   own root prefix (-L): the cross sysroot plus the one sysfs file a board has and qemu does not
#   fake: cpu0's MIDR_EL1, which oneDNN reads at load time (without it, it prints "Can't open
#   MIDR_EL1 sysfs entry" on stderr). The value written is the emulated core's own, read with
#   `mrs` under qemu.
# The two trixie packages are fetched with `apt-get download` against a private sources list
# and state under the cache, from the Debian mirror this machine's apt already uses: the system's
# apt configuration is not changed. A second run finds everything in the cache and downloads
# nothing.
set -euo pipefail

say() { echo "cross-aarch64: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "this sets up an x86_64 machine to build for aarch64; on $(uname -m) build natively"
cache_root="${INFERTOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infertop}"
apt_dir="$cache_root/debian-apt"
sysroot=/usr/aarch64-linux-gnu

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else die "needs root to run: $* (run it yourself, then again)"
  fi
}

# 1. The cross compiler, from the machine's own Debian release.
if ! command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; then
  command -v apt-get >/dev/null 2>&1 || die "aarch64-linux-gnu-g++ is missing and there is no apt-get: install an aarch64 cross g++"
  say "apt-get install g++-aarch64-linux-gnu"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++-aarch64-linux-gnu >&2; then
    as_root apt-get update >&2 || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++-aarch64-linux-gnu >&2 ||
      die "cannot install Debian's g++-aarch64-linux-gnu"
  fi
fi

# 2. A private apt for Debian trixie and trixie-backports, used only to download .debs.
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::State::Status=$apt_dir/status" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
          -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false)
apt_ready=""
private_apt() {
  [ -n "$apt_ready" ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "apt-get is missing: a Debian machine is needed to fetch Debian's packages"
  # The mirror is the one this machine's apt uses for its own Debian release.
  local codename mirror keyring
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  mirror="$(apt-get update --print-uris 2>/dev/null | tr -d "'" |
            awk -v s="/dists/$codename/InRelease" 'index($1, s) { print substr($1, 1, index($1, s) - 1); exit }')"
  [ -n "$codename" ] && [ -n "$mirror" ] ||
    die "found no Debian mirror in this machine's apt sources (for release '${codename:-?}'); a Debian host is needed"
  keyring=""
  for k in /usr/share/keyrings/debian-archive-keyring.pgp /usr/share/keyrings/debian-archive-keyring.gpg; do
    [ -e "$k" ] && { keyring="$k"; break; }
  done
  [ -n "$keyring" ] || die "Debian's archive keyring is missing (package debian-archive-keyring)"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  : > "$apt_dir/status"
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" trixie "$keyring" "$mirror" trixie-backports \
    > "$apt_dir/sources.list"
  say "apt-get update (private lists for trixie and trixie-backports in $apt_dir)"
  apt-get "${apt_opts[@]}" update >&2 || die "apt-get update of the private trixie lists failed"
  apt_ready=1
}

# Downloads one package (NAME=VERSION or NAME/SUITE) into $1's folder; prints the .deb's path.
download_deb() {
  local into="$1" what="$2"
  mkdir -p "$into"
  (cd "$into" && apt-get "${apt_opts[@]}" download "$what" >&2) || die "apt-get download $what failed"
  ls -t "$into"/*.deb | head -n 1
}

# 3. rust-src of exactly this rustc's version: only its library/ folder is kept.
rustc_version="$(rustc --version | awk '{ print $2 }')"
src="$cache_root/rust-src-$rustc_version"
if [ ! -f "$src/library/Cargo.lock" ]; then
  private_apt
  version="$(apt-cache "${apt_opts[@]}" madison rust-src | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
             grep -E "^${rustc_version//./\\.}\+" | head -n 1 || true)"
  [ -n "$version" ] || die "Debian has no rust-src for rustc $rustc_version (it has: $(apt-cache "${apt_opts[@]}" madison rust-src |
    awk -F'|' '{ gsub(/ /, "", $2); printf "%s ", $2 }')); use a rustc of one of those versions"
  work="$(mktemp -d "$cache_root/.rust-src.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  say "apt-get download rust-src=$version"
  deb="$(download_deb "$work" "rust-src=$version")"
  say "unpacking its library/"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards './usr/src/rustc-*/library' ||
    die "cannot unpack $deb"
  mkdir -p "$work/out" && mv "$work"/usr/src/rustc-*/library "$work/out/library"
  [ -f "$work/out/library/Cargo.lock" ] || die "rust-src $version holds no library/Cargo.lock"
  rm -rf "$src" && mv "$work/out" "$src"
  rm -rf "$work"
  trap - EXIT
fi

# 4. qemu-aarch64, static, from trixie.
qemu="$cache_root/qemu-user/qemu-aarch64"
if ! "$qemu" --version >/dev/null 2>&1; then
  private_apt
  work="$(mktemp -d "$cache_root/.qemu.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  say "apt-get download qemu-user/trixie"
  deb="$(download_deb "$work" qemu-user/trixie)"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" ./usr/bin/qemu-aarch64 || die "cannot unpack $deb"
  "$work/usr/bin/qemu-aarch64" --version >/dev/null || die "the unpacked qemu-aarch64 does not run here"
  mkdir -p "$(dirname "$qemu")" && mv "$work/usr/bin/qemu-aarch64" "$qemu"
  rm -rf "$work"
  trap - EXIT
fi
rm -f "$apt_dir"/cache/archives/*.deb

# 5. The emulated boards' roots: the cross sysroot's folders, and the MIDR_EL1 sysfs file of
#    the core. One for the core tests run on, and one for each core the bundle smoke runs on.
cpu="${INFERTOP_QEMU_CPU:-cortex-a72}"
known_cpus="$("$qemu" -cpu help | awk 'NR > 1 { print $1 }' || true)"  # `-cpu help` exits with 1
make_root() { # make_root CPU: $cache_root/qemu-user/root-CPU, made once
  local core="$1" prefix midr work
  grep -qx -- "$core" <<< "$known_cpus" ||
    die "qemu-aarch64 has no cpu model '$core' (INFERTOP_QEMU_CPU, INFERTOP_SMOKE_CPUS; see: $qemu -cpu help)"
  prefix="$cache_root/qemu-user/root-$core"
  midr="$prefix/sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
  [ -s "$midr" ] && return 0
  work="$(mktemp -d "$cache_root/.qemu-root.XXXXXX")"
  mkdir -p "$work/root/$(dirname "${midr#"$prefix"/}")"
  for entry in "$sysroot"/*; do ln -s "$entry" "$work/root/$(basename "$entry")"; done
  printf '%s\n' '#include <stdio.h>' \
    'int main(void) { unsigned long v; __asm__ volatile("mrs %0, midr_el1" : "=r"(v)); printf("0x%016lx\n", v); return 0; }' \
    > "$work/midr.c"
  aarch64-linux-gnu-gcc -O2 -static -o "$work/midr" "$work/midr.c" || { rm -rf "$work"; die "cannot build the MIDR probe"; }
  "$qemu" -cpu "$core" "$work/midr" > "$work/root/${midr#"$prefix"/}" ||
    { rm -rf "$work"; die "the MIDR probe failed under qemu -cpu $core"; }
  rm -rf "$prefix" && mv "$work/root" "$prefix"
  rm -rf "$work"
}
# shellcheck disable=SC2086 # a list of words
for core in $cpu ${INFERTOP_SMOKE_CPUS:-cortex-a53 cortex-a72 cortex-a76}; do make_root "$core"; done
prefix="$cache_root/qemu-user/root-$cpu"
say "$(aarch64-linux-gnu-g++ --version | head -n 1); rust-src $rustc_version; $("$qemu" --version | head -n 1), $cpu"

runner="$qemu -cpu $cpu -L $prefix"
cat <<EOF
export RUSTC_BOOTSTRAP=1
export __CARGO_TESTS_ONLY_SRC_ROOT='$src/library'
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER='$runner'
export INFERTOP_TEST_RUNNER='$runner'
EOF
