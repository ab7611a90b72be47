#!/usr/bin/env bash
# Runs a command with a supported Node.js first on PATH (see tools/node.sh).
#   tools/with-node.sh COMMAND [ARGS...]
set -euo pipefail
# shellcheck source=node.sh
source "$(dirname "$0")/node.sh"
exec "$@"
