#!/usr/bin/env bash
# Installs what nix2gpu's tests and examples use on a fresh Debian machine:
# Nix (Debian's nix-bin), a local OCI registry, pre-commit, skopeo (for the
# benchmarks) and the YAML language server used by the editor test.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	ca-certificates git gcc libc6-dev \
	nix-bin docker-registry pre-commit skopeo time >/dev/null

# The Debian registry package starts a system service on install where a
# service manager runs; tests start their own registries on free loopback
# ports, so a system one is not needed.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
	$SUDO systemctl stop docker-registry || true
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	$SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if [ -f editor/package-lock.json ]; then
	(cd editor && npm ci --no-audit --no-fund --loglevel=error)
fi

go version
nix --version
