#!/usr/bin/env bash
# Installs everything berth, its demo, its tests and its benchmarks need on a fresh Debian 12 with Node 20
# (as root). Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# runtime: crun conmon netavark aardvark-dns catatonit; base images: busybox-static; fast paths: pigz zstd;
# xattrs: attr; the attach relay (src/runtime/relay.ts) is compiled with gcc; the demo uses curl;
# peers for tests and benchmarks: skopeo podman docker-registry docker.io runc buildah wrk tmux
pkgs=(crun conmon runc netavark aardvark-dns catatonit busybox-static pigz zstd attr iptables nftables
      skopeo podman docker-registry docker.io buildah wrk tmux uidmap openssl ca-certificates curl gcc libc6-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "berth setup: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# `berth` and `berthd` on the PATH (symlinks to this checkout's bin/), as a docker user has `docker` and `dockerd`
if [ "$(id -u)" -eq 0 ] && [ "$(readlink -f "$(command -v berth 2>/dev/null || true)" 2>/dev/null)" != "$PWD/bin/berth.js" ]; then
  npm link --no-audit --no-fund --loglevel=error >/dev/null
fi
