#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine with Node and npm.
#   scripts/setup.sh          what `npm start` and `npm run bench` need: npm packages,
#                             bubblewrap, and what the browser's speech recognition is
#                             built from (emscripten, bison, dpkg-dev, pocketsphinx-en-us)
#   scripts/setup.sh --test   and what `npm test` needs: Debian's Chromium, sox, espeak-ng…
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

# npm packages: (re)install when node_modules is missing or older than the lockfile.
stamp=node_modules/.remotemedia-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
  touch "$stamp"
fi

apt_updated=false
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install $*" >&2; exit 1; }
    sudo="sudo"
  fi
  if ! $apt_updated; then
    $sudo apt-get update -qq
    apt_updated=true
  fi
  echo "setup: apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
# The gateway (npm start's and the tests'): client code runs sandboxed under bubblewrap.
[ -x /usr/bin/bwrap ] || missing+=(bubblewrap)
# SpeechToText in the browser (the studio's voice loop): `npm run build:wasm` compiles
# Debian's PocketSphinx sources with Debian's emscripten (scripts/build-pocketsphinx.sh;
# bison for its grammar parser, dpkg-dev to unpack the source packages) and serves
# the en-us model from pocketsphinx-en-us (the gateway's speech nodes use it too).
command -v emcc >/dev/null || missing+=(emscripten)
command -v bison >/dev/null || missing+=(bison)
command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
[ -d /usr/share/pocketsphinx/model/en-us/en-us ] || missing+=(pocketsphinx-en-us)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

if $for_tests; then
  missing=()
  # Browser tests run in Debian's Chromium: Playwright's own download is not reachable here.
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  # Audio references: sox (the resampling peer), espeak-ng (real speech fixtures).
  command -v sox >/dev/null || missing+=(sox)
  command -v espeak-ng >/dev/null || missing+=(espeak-ng)
  # The gateway's speech nodes: PocketSphinx with its en-us model, on Debian's python3.
  /usr/bin/python3 -c 'import pocketsphinx.pocketsphinx' 2>/dev/null || missing+=(python3-pocketsphinx)
  # The LogMel reference is computed with Debian's numpy, on Debian's python3.
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
  # The Python SDK's gateway client (remotemedia.remote) under CPython.
  /usr/bin/python3 -c 'import websockets' 2>/dev/null || missing+=(python3-websockets)
  # Installing the Python package offline (python-packages/README.md): a venv with
  # pip (ensurepip is python3-venv's), and wheel for setuptools to build with.
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
  /usr/bin/python3 -c 'import wheel' 2>/dev/null || missing+=(python3-wheel)
  # The gateway's TLS test makes a self-signed certificate.
  command -v openssl >/dev/null || missing+=(openssl)
  # The gateway's container executor: its test starts dockerd (no bridge, no iptables).
  command -v dockerd >/dev/null || missing+=(docker.io)
  # Several gateways behind nginx (remote-gateway/deploy/, its cluster test): nginx-light.
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
fi
