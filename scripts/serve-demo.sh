#!/usr/bin/env bash
# Serves the built demo (vite preview of dist-app/) with the gateway beside it, and
# prints the one address to open, once both answer. When either process ends (or
# Ctrl-C, or a kill of this script), the other is stopped too. Flags go to the
# gateway. REMOTEMEDIA_DEMO_PORT moves the demo off 4173.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${REMOTEMEDIA_DEMO_PORT:-4173}"
origin="http://127.0.0.1:${port}"
# The gateway verifies tokens signed with this run's secret (docs/gateway.md). The demo
# gets, in its address, a development token minted for its origin: it may run any node
# type and its own Python (sandboxed under bubblewrap), for 12 hours.
# The secret goes to the gateway's environment only (not to vite's, not on a command line).
secret="${REMOTEMEDIA_GATEWAY_TOKEN_SECRET:-$(node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")}"
token="$(REMOTEMEDIA_GATEWAY_TOKEN_SECRET="$secret" node --import tsx remote-gateway/main.ts token \
  --client-code --node-types '*' --expires-in 12h --subject npm-start \
  --origin "$origin" --origin "http://localhost:${port}")"

# Both started with node itself (not npx), so that $! is the server and a kill reaches it.
# One address is printed, ours: the gateway's start-up log is quiet (warnings and errors
# still show) and its ws:// banner left out (the demo knows where it is); vite's banner,
# whose address lacks the token, is silenced, and --strictPort keeps the port we print.
REMOTEMEDIA_GATEWAY_TOKEN_SECRET="$secret" REMOTEMEDIA_GATEWAY_LOG_LEVEL="${REMOTEMEDIA_GATEWAY_LOG_LEVEL:-warn}" \
  node --initial-old-space-size=128 --import tsx remote-gateway/main.ts "$@" > >(grep --line-buffered -v '^RemoteMedia gateway on ') &
gateway=$!
node node_modules/vite/bin/vite.js preview --port "$port" --strictPort --logLevel warn &
preview=$!
stop() { kill "$gateway" "$preview" 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

alive() { kill -0 "$gateway" 2>/dev/null && kill -0 "$preview" 2>/dev/null; }
until (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; do
  alive || break
  sleep 0.2
done
alive && echo "Demo: ${origin}/#gateway-token=${token}"

# The first of the two to end ends the run; the trap stops the other.
status=0
wait -n "$gateway" "$preview" || status=$?
exit "$status"
