#!/usr/bin/env bash
# check-elf.sh ARCH FILE...: each FILE is an ELF object for ARCH (x86_64 or aarch64), and each
# library it needs is found through its own RUNPATH/RPATH ($ORIGIN expanded) or is part of the
# base system every glibc Linux has (glibc, libstdc++, libgcc_s).
#
# It reads the files instead of loading them (`ldd` only works for the host's architecture and
# says "not a dynamic executable" for any other), so it checks an aarch64 tree on an x86_64 host
# as well as a native one. Uses $PATCHELF, else provisions one with fetch-patchelf.sh.
set -euo pipefail

die() { echo "check-elf: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: check-elf.sh x86_64|aarch64 FILE..."
arch="$1"; shift
case "$arch" in
  x86_64) machine=62 ;;
  aarch64) machine=183 ;;
  *) die "unknown architecture '$arch'" ;;
esac
patchelf="${PATCHELF:-$(bash "$(dirname "$0")/fetch-patchelf.sh")}"

# Libraries that come with the C and C++ runtime of every glibc system.
base='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-(aarch64|x86-64)\.so\.[12])$'

problems=()
for f in "$@"; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || { problems+=("$f: not an ELF file"); continue; }
  m="$(od -An -tu2 -j18 -N2 "$f" | tr -d ' ')"
  [ "$m" = "$machine" ] || { problems+=("$f: ELF machine $m, not $arch ($machine)"); continue; }
  dir="$(cd "$(dirname "$f")" && pwd)"
  IFS=: read -r -a paths <<< "$("$patchelf" --print-rpath "$f")"
  while IFS= read -r needed; do
    [[ "$needed" =~ $base ]] && continue
    found=""
    for p in "${paths[@]}"; do
      p="${p//\$ORIGIN/$dir}"
      p="${p//\$\{ORIGIN\}/$dir}"
      if [ -n "$p" ] && [ -e "$p/$needed" ]; then found=1; break; fi
    done
    [ -n "$found" ] || problems+=("$f: needs $needed, found neither beside it (rpath '${paths[*]:-}') nor in the base system")
  done < <("$patchelf" --print-needed "$f")
done
if [ "${#problems[@]}" -gt 0 ]; then
  printf 'check-elf: %s\n' "${problems[@]}" >&2
  exit 1
fi
