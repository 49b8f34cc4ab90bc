#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's end-to-end test (test/integration/operations/dashboard.test.ts drives it
# with playwright-core, which never downloads a browser of its own). Idempotent: a working chromium is left
# as it is. CHROMIUM_PATH overrides where the test looks (default /usr/bin/chromium).
set -euo pipefail

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}

works() {
  [ -x "$chromium" ] && "$chromium" --version >/dev/null 2>&1
}

if works; then
  echo "[chromium] present: $("$chromium" --version 2>/dev/null)"
  exit 0
fi

fail() {
  echo "[chromium] error: $*" >&2
  echo "[chromium] the dashboard end-to-end test needs Debian's 'chromium' package at $chromium" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "chromium is missing and apt-get is not available to install it"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "chromium is missing; installing it needs root (or sudo)"
  sudo=(sudo)
fi

echo "[chromium] installing Debian's chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
"${sudo[@]}" apt-get install -y -qq chromium >/dev/null || fail "apt-get install chromium failed"
works || fail "chromium was installed but '$chromium --version' does not run"
echo "[chromium] installed: $("$chromium" --version 2>/dev/null)"
