#!/usr/bin/env bash
# npm start: set up, build, then serve the demo (vite preview) with the gateway
# beside it; stopping one stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
# The gateway verifies tokens signed with this run's secret (docs/gateway.md). The demo
# gets, in its address, a development token minted for its origin: it may run any node
# type and its own Python (sandboxed under bubblewrap), for 12 hours.
# The secret goes to the gateway's environment only (not to vite's, not on a command line).
secret="${REMOTEMEDIA_GATEWAY_TOKEN_SECRET:-$(node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")}"
token="$(REMOTEMEDIA_GATEWAY_TOKEN_SECRET="$secret" npx tsx remote-gateway/main.ts token \
  --client-code --node-types '*' --expires-in 12h --subject npm-start \
  --origin http://127.0.0.1:4173 --origin http://localhost:4173)"
# node itself (not npx): $! is then the gateway, and the trap below really stops it.
REMOTEMEDIA_GATEWAY_TOKEN_SECRET="$secret" node --import tsx remote-gateway/main.ts "$@" &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT INT TERM
echo "Demo: http://127.0.0.1:4173/#gateway-token=${token}"
npx vite preview
