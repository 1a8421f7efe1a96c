#!/usr/bin/env bash
# Installs everything abl-audit's tests and benchmarks need on a fresh Debian machine:
# the Fashion-MNIST package (real data for the import tests) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to apt-get install dataset-fashion-mnist" >&2; exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist
fi

# npm ci also builds dist/ (the `prepare` script), which the CLI tests run.
npm ci --no-audit --no-fund
