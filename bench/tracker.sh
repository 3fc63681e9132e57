#!/usr/bin/env bash
# npm run bench:tracker — installs what the tracker benchmark needs when it is missing, then runs
# bench/tracker.ts (environment settings: see SETTINGS there). Needs a PostgreSQL server
# (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/fw_bench; that database is
# dropped and created afresh), 2 cores and a few GiB of memory; takes about 15 minutes.
# `bash bench/tracker.sh udp` (npm run bench:tracker -- udp) runs the UDP benchmark instead:
# bench/udp-load.c (compiled here with gcc) against Fairywren's and opentracker's UDP ports, printing
# requests per second of each tracker's CPU and their ratio (bench/tracker-udp.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v opentracker >/dev/null || missing+=(opentracker)
command -v taskset >/dev/null || missing+=(util-linux)
if [ "${1:-}" = "udp" ]; then command -v gcc >/dev/null || missing+=(gcc); fi
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing ${missing[*]} (apt-get)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# bittorrent-tracker goes into bench/.deps, not the project's dependencies. Install scripts are
# skipped: its WebRTC dependency would build native code the HTTP server never loads.
if [ ! -f bench/.deps/node_modules/bittorrent-tracker/server.js ]; then
  echo "installing bittorrent-tracker into bench/.deps (npm)" >&2
  mkdir -p bench/.deps
  npm install --prefix bench/.deps --no-audit --no-fund --ignore-scripts --omit=optional \
    --loglevel=error bittorrent-tracker@11.2.3 >/dev/null
fi

bun="node_modules/.bin/bun"
[ -x "$bun" ] || bun="$(command -v bun)"

if [ "${1:-}" = "udp" ]; then
  shift
  mkdir -p bench/.deps
  gcc -O2 -Wall -o bench/.deps/udp-load bench/udp-load.c
  exec taskset -c "${BENCH_CLIENT_CORE:-1}" "$bun" bench/tracker-udp.ts "$@"
fi
# The orchestrator (idle while wrk runs) shares the load generator's core, never the servers'.
exec taskset -c "${BENCH_CLIENT_CORE:-1}" "$bun" bench/tracker.ts "$@"
