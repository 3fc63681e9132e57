#!/usr/bin/env bash
# npm run bench:web — installs wrk when it is missing, then runs bench/web.ts (settings: see
# WEB_SETTINGS there). Needs a PostgreSQL server (BENCH_WEB_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/fw_bench_web; created when missing and its catalogue kept
# between runs) and about 2 GiB of disk for 1M torrents; the first run spends a few minutes
# generating the catalogue, later ones about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing wrk (apt-get)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi

bun="node_modules/.bin/bun"
[ -x "$bun" ] || bun="$(command -v bun)"
exec "$bun" bench/web.ts "$@"
