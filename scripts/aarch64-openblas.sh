#!/usr/bin/env bash
# aarch64-openblas.sh LIBDIR: swaps NVIDIA's NVPL BLAS/LAPACK in an aarch64 libtorch lib/ folder
# for Debian's OpenBLAS, so that libtorch runs on ARMv8.0 cores (Raspberry Pi 3/4, Zero 2 W,
# Jetson Nano) as well as on ARMv8.2 ones. Called by fetch-libtorch.sh for aarch64; prints one
# line describing what it installed on stdout, progress on stderr.
#
# Why: the PyPI torch 2.13.0 wheel ships NVPL, whose libnvpl_blas_core.so.0 uses an ARMv8.1 LSE
# atomic (ldaddal) directly in its thread barrier, with no run-time fallback: every BLAS call
# made with more than one thread dies of SIGILL on a Cortex-A72 or A53 (docs/boards.md has the
# evidence). OpenBLAS picks its kernels at run time from the core it finds (Debian builds it with
# DYNAMIC_ARCH), and its atomics go through gcc's outline helpers, which test for LSE first.
#
# How: libtorch_cpu.so stays as it is. It NEEDs libnvpl_blas_lp64_gomp.so.0 and
# libnvpl_lapack_lp64_gomp.so.0, and binds its BLAS symbols under a version named after the
# first (`sgemm_@libnvpl_blas_lp64_gomp.so.0`). So each of those sonames becomes a small stand-in
# library, generated here and built with the aarch64 C compiler:
# - for every symbol libtorch_cpu.so imports with a version of that soname, the stand-in defines
#   it under that version and forwards it to OpenBLAS with one tail branch (`b sgemm_`); the
#   arguments are untouched, so no prototypes are needed. The definitions are non-default
#   (`sgemm_@VERSION`, one `@`) and their version is not the library's first, so they only
#   satisfy references that ask for that version: the stand-in's own unversioned reference to
#   `sgemm_` skips them and binds to OpenBLAS (else it would branch to itself).
# - symbols libtorch_cpu.so imports from NVPL without a version (all of LAPACK) are found in
#   OpenBLAS itself, which every stand-in NEEDs.
# The OpenMP build of OpenBLAS is used, as NVPL's `_gomp` flavour was: its thread count is the
# caller's OpenMP one (what at::set_num_threads sets) and a call made inside a parallel region
# runs on one thread. It shares the wheel's libgomp.so.1. Its libgfortran.so.5 comes along.
#
# The packages come from Debian bookworm (the base of Raspberry Pi OS bookworm; its libgfortran
# asks for glibc 2.34, no more than the binary does), downloaded with `apt-get download` against
# a private sources list and state under the cache (mirror: the one this machine's apt uses for
# its own Debian release, or INFERTOP_DEBIAN_MIRROR): the system's apt configuration is unchanged.
# Needs apt-get and Debian's archive keyring, and an aarch64 C compiler (aarch64-linux-gnu-gcc,
# or gcc on an aarch64 host).
set -euo pipefail

say() { echo "aarch64-openblas: $*" >&2; }
die() { say "$*"; exit 1; }
[ $# -eq 1 ] && [ -d "$1" ] || die "usage: aarch64-openblas.sh LIBDIR"
lib="$(cd "$1" && pwd)"
suite=bookworm
packages=(libopenblas0-openmp libgfortran5)
cache_root="${INFERTOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infertop}"
apt_dir="$cache_root/debian-apt-$suite-arm64"

command -v readelf >/dev/null 2>&1 || die "readelf is missing (package binutils)"
cc=""
for c in aarch64-linux-gnu-gcc gcc; do
  command -v "$c" >/dev/null 2>&1 || continue
  case "$("$c" -dumpmachine 2>/dev/null)" in aarch64-*) cc="$c"; break ;; esac
done
[ -n "$cc" ] || die "no aarch64 C compiler (install g++-aarch64-linux-gnu, or gcc on an aarch64 machine)"
[ -f "$lib/libtorch_cpu.so" ] || die "no libtorch_cpu.so in $lib"

work="$(mktemp -d "${TMPDIR:-/tmp}/infertop-openblas.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. What libtorch_cpu.so takes from NVPL: the NVPL sonames it NEEDs, the versioned imports
#    (NAME VERSION FILE, the file read from its version needs), the unversioned imports that an
#    NVPL library of the wheel defines.
mapfile -t nvpl < <(readelf -dW "$lib/libtorch_cpu.so" | sed -n 's/.*(NEEDED).*\[\(libnvpl_[^]]*\)\]$/\1/p')
[ "${#nvpl[@]}" -gt 0 ] || die "libtorch_cpu.so NEEDs no NVPL library: nothing to replace (a changed wheel?)"
# Lines of readelf's version needs: `0x0140: Version: 1  File: F  Cnt: 1`, `0x0150:   Name: V  ...`.
readelf -VW "$lib/libtorch_cpu.so" |
  awk '/^Version needs section/ { on = 1; next } on && $4 == "File:" { f = $5; next }
       on && $2 == "Name:" { print $3, f }' > "$work/version-files"
readelf --dyn-syms -W "$lib/libtorch_cpu.so" | awk '$7 == "UND" && $8 ~ /@/ { split($8, p, "@"); print p[1], p[2] }' |
  while read -r name version; do
    file="$(awk -v v="$version" '$1 == v { print $2; exit }' "$work/version-files")"
    case " ${nvpl[*]} " in *" $file "*) echo "$name $version $file" ;; esac
  done | sort -u > "$work/versioned"
# Each version libtorch_cpu.so needs of an NVPL library names some import (else the parsing failed).
for s in "${nvpl[@]}"; do
  awk -v f="$s" '$2 == f { print $1 }' "$work/version-files" | while read -r version; do
    grep -q " $version $s\$" "$work/versioned" || die "found no import of version $version of $s in libtorch_cpu.so"
  done
done
for s in "${nvpl[@]}"; do
  [ -f "$lib/$s" ] || die "$s is not in $lib"
  readelf --dyn-syms -W "$lib/$s" | awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") { sub(/@.*/, "", $8); print $8 }'
done | sort -u > "$work/nvpl-defined"
readelf --dyn-syms -W "$lib/libtorch_cpu.so" | awk '$7 == "UND" && $8 !~ /@/ { print $8 }' | sort -u |
  comm -12 - "$work/nvpl-defined" > "$work/unversioned"
say "libtorch_cpu.so takes $(wc -l < "$work/versioned") versioned and $(wc -l < "$work/unversioned") unversioned symbols from ${nvpl[*]}"

# 2. Debian's OpenBLAS (OpenMP flavour) and libgfortran for arm64, with a private apt.
command -v apt-get >/dev/null 2>&1 || die "apt-get is missing: Debian's OpenBLAS package is fetched with it"
keyring=""
for k in /usr/share/keyrings/debian-archive-keyring.pgp /usr/share/keyrings/debian-archive-keyring.gpg; do
  [ -e "$k" ] && { keyring="$k"; break; }
done
[ -n "$keyring" ] || die "Debian's archive keyring is missing (package debian-archive-keyring)"
# The Debian mirror this machine's apt already uses for its own release.
mirror="${INFERTOP_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  mirror="$(apt-get update --print-uris 2>/dev/null | tr -d "'" |
            awk -v s="/dists/$codename/InRelease" 'index($1, s) { print substr($1, 1, index($1, s) - 1); exit }')"
  [ -n "$codename" ] && [ -n "$mirror" ] ||
    die "found no Debian mirror in this machine's apt sources; set INFERTOP_DEBIAN_MIRROR to one"
fi
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::State::Status=$apt_dir/status" -o Debug::NoLocking=1 -o APT::Sandbox::User=root
          -o APT::Architecture=arm64 -o APT::Architectures::=arm64
          -o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false)
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
: > "$apt_dir/status"
printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" > "$apt_dir/sources.list"
say "apt-get update (private arm64 lists for $suite in $apt_dir)"
apt-get "${apt_opts[@]}" update >&2 || die "apt-get update of the private $suite lists failed"
mkdir -p "$work/debs" "$work/x"
(cd "$work/debs" && apt-get "${apt_opts[@]}" download "${packages[@]}" >&2) ||
  die "apt-get download ${packages[*]} failed"
versions=""
for p in "${packages[@]}"; do
  deb="$(ls "$work"/debs/"${p}"_*_arm64.deb)"
  dpkg-deb -x "$deb" "$work/x" || die "cannot unpack $deb"
  versions+="${versions:+, }$p $(dpkg-deb -f "$deb" Version)"
done
rm -f "$apt_dir"/cache/archives/*.deb
openblas="$work/x/usr/lib/aarch64-linux-gnu/openblas-openmp/libopenblas.so.0"
gfortran="$work/x/usr/lib/aarch64-linux-gnu/libgfortran.so.5"
[ -e "$openblas" ] && [ -e "$gfortran" ] || die "the packages hold no libopenblas.so.0 / libgfortran.so.5"
cp -L "$openblas" "$work/libopenblas.so.0"
cp -L "$gfortran" "$work/libgfortran.so.5"
chmod u+w "$work/libopenblas.so.0" "$work/libgfortran.so.5"
readelf --dyn-syms -W "$work/libopenblas.so.0" | awk '$7 != "UND" { sub(/@.*/, "", $8); print $8 }' | sort -u > "$work/openblas-defined"

# Everything libtorch_cpu.so asked of NVPL must be in OpenBLAS.
missing="$(cut -d' ' -f1 "$work/versioned" | cat - "$work/unversioned" | sort -u | comm -23 - "$work/openblas-defined")"
[ -z "$missing" ] || die "OpenBLAS lacks what libtorch_cpu.so takes from NVPL: $(echo $missing)"

# 3. One stand-in per NVPL soname libtorch_cpu.so NEEDs.
for s in "${nvpl[@]}"; do
  base="$work/${s%%.so*}"
  {
    printf '\t.text\n'
    awk -v f="$s" '$3 == f { print $1, $2 }' "$work/versioned" | while read -r name version; do
      printf '\t.globl\tfwd_%s\n\t.type\tfwd_%s, %%function\n\t.p2align\t2\nfwd_%s:\n\tb\t%s\n\t.size\tfwd_%s, 4\n' \
        "$name" "$name" "$name" "$name" "$name"
      printf '\t.symver\tfwd_%s, %s@%s\n' "$name" "$name" "$version"
    done
    printf '\t.section\t.note.GNU-stack,"",%%progbits\n'
  } > "$base.S"
  {
    # A first node, so that the NVPL versions are not index 2 (which glibc lets unversioned
    # references bind to); it holds the forwarders' own names, kept local.
    echo "INFERTOP_STANDIN { local: *; };"
    awk -v f="$s" '$3 == f { print $2 }' "$work/versioned" | sort -u | while read -r version; do
      echo "$version {"
      awk -v f="$s" -v v="$version" '$3 == f && $2 == v { print "  " $1 ";" }' "$work/versioned"
      echo "};"
    done
  } > "$base.map"
  "$cc" -shared -nostdlib -o "$work/$s" "$base.S" -Wl,-soname,"$s" -Wl,--version-script="$base.map" \
    -Wl,--no-undefined -Wl,-z,noexecstack -Wl,--no-as-needed -L"$work" -l:libopenblas.so.0 \
    -Wl,-rpath-link,"$work" -Wl,-rpath-link,"$lib" -Wl,-rpath,'$ORIGIN' ||
    die "cannot build the stand-in $s"
  # Each versioned import is now defined with its version.
  readelf --dyn-syms -W "$work/$s" | awk '$7 != "UND" && $8 ~ /@/ { print $8 }' | sort > "$work/got"
  awk -v f="$s" '$3 == f { print $1 "@" $2 }' "$work/versioned" | sort | comm -23 - "$work/got" > "$work/lacking"
  [ ! -s "$work/lacking" ] || die "the stand-in $s lacks: $(tr '\n' ' ' < "$work/lacking")"
done

# 4. Into the folder: the stand-ins over NVPL's front libraries, NVPL's cores out.
# (Removed first: a link in LIBDIR must not be written through.)
for f in "${nvpl[@]}" libopenblas.so.0 libgfortran.so.5; do rm -f "$lib/$f"; cp "$work/$f" "$lib/$f"; done
rm -f "$lib"/libnvpl_*_core.so*
echo "OpenBLAS from Debian $suite arm64 ($versions) behind stand-ins for ${nvpl[*]}"
