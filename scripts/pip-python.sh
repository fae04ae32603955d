# Sourced by the fetch scripts: sets `python` to an interpreter that has pip, or stops with a
# one-line message (`die` must be defined by the caller).
python=""
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -m pip --version >/dev/null 2>&1; then python="$p"; break; fi
done
[ -n "$python" ] || die "pip is missing: install Python 3 with pip (python3 -m pip) and run again"
