#!/usr/bin/env bash
# Installs everything abl-audit's tests and benchmarks need on a fresh Debian machine:
# Debian's Fashion-MNIST and Chromium packages, and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the Fashion-MNIST data set (real data for the import tests and benchmarks) and
# Chromium (the browser the report.html test drives with playwright-core; npm cannot download one here).
PACKAGES=()
[ -d /usr/share/datasets/fashion-mnist ] || PACKAGES+=(dataset-fashion-mnist)
[ -x /usr/bin/chromium ] || PACKAGES+=(chromium)
if [ ${#PACKAGES[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to apt-get install ${PACKAGES[*]}" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${PACKAGES[@]}"
fi

# npm ci also builds dist/ (the `prepare` script), which the CLI tests run.
npm ci --no-audit --no-fund
