#!/usr/bin/env bash
# Installs what this project needs and a fresh machine may lack: Node.js 22 when the machine's is
# older, the npm packages pinned in package-lock.json, the few Debian tools the scripts call, and
# the test and demo CA material (made on this machine). Run by `npm start` and `npm test`
# before anything else; does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A package_of=([curl]=curl [openssl]=openssl [setsid]=util-linux [base64]=coreutils)
missing=()
for tool in "${!package_of[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${package_of[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "[deps] installing ${missing[*]}" >&2
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 || { echo "[deps] Go (1.26) is needed to build the toolchain: https://go.dev/doc/install" >&2; exit 1; }

# A supported Node.js first, so that npm ci below (and everything after it) runs on it.
# shellcheck source=node.sh
source tools/node.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "[deps] npm ci" >&2
    npm ci --no-audit --no-fund >&2
fi

# The demo's and tests' CA material, made here (it is never committed: no private key is in the repository).
if ! bash tests/fixtures/certs/generate.sh; then
    echo "[deps] could not make the test CA material (tests/fixtures/certs/generate.sh, openssl)" >&2
    exit 1
fi

# The program and `mesh` compiled once, not at every run (bin/current-build.js runs the TypeScript
# after an edit, until the next build).
if [ ! -f dist/index.js ] || [ -n "$(find index.ts cli components lib -name '*.ts' -newer dist/index.js | head -1)" ]; then
    echo "[deps] compiling the program and mesh (dist/)" >&2
    rm -rf dist && npx tsc -p tsconfig.dist.json
fi
