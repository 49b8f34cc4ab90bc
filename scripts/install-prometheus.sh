#!/usr/bin/env bash
# Installs Debian's prometheus package for promtool (npm test runs `promtool test rules` on monitoring/) and the
# Prometheus server that test/integration/operations/operations.test.ts starts on loopback. Idempotent: present binaries
# are left as they are. The package's own service is never started: the test runs a Prometheus of its own.
set -euo pipefail

works() {
  command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 &&
    promtool --version >/dev/null 2>&1
}

if works; then
  echo "[prometheus] present: $(prometheus --version 2>&1 | head -1)"
  exit 0
fi

fail() {
  echo "[prometheus] error: $*" >&2
  echo "[prometheus] the alert rule tests need Debian's 'prometheus' package (promtool and prometheus)" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "prometheus is missing and apt-get is not available to install it"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "prometheus is missing; installing it needs root (or sudo)"
  sudo=(sudo)
fi

# A policy-rc.d that answers 101 keeps the package's postinst from starting the service (on 0.0.0.0:9090).
policy=/usr/sbin/policy-rc.d
added_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  added_policy=true
fi
cleanup() { if $added_policy; then "${sudo[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

echo "[prometheus] installing Debian's prometheus with apt-get (no recommended exporters)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || fail "apt-get update failed"
"${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
  fail "apt-get install prometheus failed"
works || fail "prometheus was installed but promtool does not run"
echo "[prometheus] installed: $(prometheus --version 2>&1 | head -1)"
