#!/usr/bin/env bash
# npm start: set up, build, then serve the demo (vite preview) with the gateway
# beside it; stopping one stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
npx tsx remote-gateway/main.ts "$@" &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT INT TERM
npx vite preview
