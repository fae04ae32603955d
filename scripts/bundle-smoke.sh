#!/usr/bin/env bash
# bundle-smoke.sh ARCH TARBALL: what a user does with a bundle on a board. Untars it into an empty
# folder, runs `./infertop --headless --only tiny --duration 20s` there with neither LIBTORCH nor
# LD_LIBRARY_PATH set, and checks the run: exit 0, a summary, a complete snapshot with the tiny
# net's row. A bundle for another architecture runs under $INFERTOP_TEST_RUNNER (qemu; see
# arch-env.sh, which also moves the emulated run's peak cache out of the user's).
set -euo pipefail

say() { echo "bundle-smoke: $*" >&2; }
[ $# -eq 2 ] || { say "usage: bundle-smoke.sh x86_64|aarch64 TARBALL"; exit 2; }
arch="$1" tarball="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
here="$(cd "$(dirname "$0")" && pwd)"

runner=()
if [ "$arch" != "$(uname -m)" ]; then
  [ -n "${INFERTOP_TEST_RUNNER:-}" ] || { say "an $arch bundle needs INFERTOP_TEST_RUNNER (an emulator) here"; exit 2; }
  read -r -a runner <<< "$INFERTOP_TEST_RUNNER"
fi

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
failures=()
fail() { failures+=("$*"); say "FAILED: $*"; }

tar -C "$dir" -xzf "$tarball"
bundle="$(find "$dir" -mindepth 1 -maxdepth 1 -type d)"
cd "$bundle"
# The binary must find libtorch through its own folder, not the build machine's cache.
patchelf="${PATCHELF:-$(bash "$here/fetch-patchelf.sh")}"
rpath="$("$patchelf" --print-rpath ./infertop)"
[ "$rpath" = '$ORIGIN/lib' ] || fail "rpath is '$rpath', not \$ORIGIN/lib"

say "running ./infertop --headless --only tiny --duration 20s in an empty folder (${runner[*]:-native})"
start=$(date +%s)
status=0
env -u LD_LIBRARY_PATH -u LIBTORCH timeout 300 "${runner[@]}" ./infertop --headless --only tiny --duration 20s \
  > stdout.txt 2> stderr.txt || status=$?
say "ran $(( $(date +%s) - start )) s, exit $status"
[ "$status" = 0 ] || fail "exit status $status; stderr: $(tail -n 5 stderr.txt)"
grep -q '^summary after' stdout.txt || fail "no summary line in: $(tail -n 5 stdout.txt)"
snapshot="$(find infertop-snapshots -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | head -n 1)"
if [ -z "$snapshot" ]; then
  fail "no snapshot under infertop-snapshots/"
else
  for f in models.csv ops.csv layers.csv system.csv run.json; do
    [ -s "$snapshot/$f" ] || fail "snapshot lacks $f"
  done
  # The tiny net's row with a positive iteration count.
  iterations="$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "iterations") c = i }
                        NR > 1 && $1 == "tiny" { print $c }' "$snapshot/models.csv" 2>/dev/null || true)"
  [ "${iterations:-0}" -gt 0 ] 2>/dev/null || fail "models.csv has no timed tiny row (iterations '${iterations:-}')"
  say "snapshot $(basename "$snapshot"): tiny ran ${iterations:-0} inferences"
fi
grep -E '^ *tiny ' stdout.txt | tail -n 1 >&2 || true

say "$arch bundle $(basename "$tarball"): ${#failures[@]} failure(s)"
if [ "${#failures[@]}" -eq 0 ]; then
  echo "bundle-smoke: 1 passed, 0 failed"
else
  echo "bundle-smoke: 0 passed, 1 failed"
  exit 1
fi
