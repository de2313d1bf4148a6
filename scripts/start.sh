#!/usr/bin/env bash
# npm start: set up, build, then serve the demo (vite preview) with the gateway
# beside it; stopping one stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
# One token for this run: the gateway requires it, the demo gets it in its address.
token="${REMOTEMEDIA_GATEWAY_TOKENS:-$(node -e "console.log(require('crypto').randomBytes(18).toString('base64url'))")}"
REMOTEMEDIA_GATEWAY_TOKENS="$token" npx tsx remote-gateway/main.ts "$@" &
gateway=$!
trap 'kill $gateway 2>/dev/null || true' EXIT INT TERM
echo "Demo: http://127.0.0.1:4173/#gateway-token=${token%%,*}"
npx vite preview
