#!/usr/bin/env bash
# npm start: set up, build, then serve the demo with the gateway beside it
# (scripts/serve-demo.sh: one address printed; stopping one stops both).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
exec bash scripts/serve-demo.sh "$@"
