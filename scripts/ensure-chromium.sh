#!/usr/bin/env bash
# Makes sure Debian's `chromium` is installed, for the test that renders a report in a real
# headless browser (tests/report.rs). Installs it with apt-get when missing and possible (root
# with apt); otherwise says what is missing and exits 0, leaving the test to fail with that
# reason when INFERTOP_REQUIRE_CHROMIUM is set (as `make test` sets it).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: chromium is missing and cannot be installed here (needs root and apt-get)" >&2
    exit 0
fi
echo "ensure-chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
