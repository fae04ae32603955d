#!/usr/bin/env bash
# Make sure the programs tests/prometheus.rs checks `--listen` with are installed: the
# Prometheus server (`prometheus` on PATH) and Python's prometheus_client OpenMetrics parser
# (importable by /usr/bin/python3 or python3). Both come from Debian: `prometheus` and
# `python3-prometheus-client`.
#
# Installs what is missing with apt-get when it can (as root, or through sudo without a
# password). When it cannot, it says how and exits 0: the tests then fail under `make test`
# (INFERTOP_REQUIRE_PROMETHEUS) with the same advice, so a missing program is never a silent
# pass.
#
# Where systemd runs, Debian's package also starts a `prometheus` service on :9090; the tests
# never use it (they start their own server on a free loopback port), and
# `systemctl disable --now prometheus` stops it.
set -euo pipefail

say() { echo "ensure-prometheus: $*" >&2; }

have_server() { command -v prometheus >/dev/null 2>&1; }
have_parser() {
  local python
  for python in /usr/bin/python3 python3; do
    if command -v "$python" >/dev/null 2>&1 &&
      "$python" -c 'import prometheus_client.openmetrics.parser' >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

missing=()
have_server || missing+=(prometheus)
have_parser || missing+=(python3-prometheus-client)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  as_root=(none)
fi

if [ "${as_root[*]-}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
  say "missing: ${missing[*]}; the Prometheus tests will fail until it is installed."
  say "on Debian or Ubuntu: sudo apt-get install ${missing[*]}"
  say "elsewhere: put Prometheus 2.x's 'prometheus' on PATH (or set INFERTOP_PROMETHEUS to it) and 'pip install prometheus-client'"
  exit 0
fi

say "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet, or old ones naming versions long gone.
if ! "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
  "${as_root[@]}" apt-get update >&2
  "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
have_server && have_parser || { say "installed, but still missing: ${missing[*]}"; exit 1; }
