#!/usr/bin/env bash
# CPU and allocation profiles of the real `trackaudit proxy` (detectors,
# live output and capture on) under the benchmark's load.
#
#   bench/proxy/profile.sh [CLIENTS] [SECONDS] [OUTDIR]   (from the repository root)
#
# Writes OUTDIR/cpu.pprof and OUTDIR/mem.pprof (default OUTDIR: a new
# temporary directory, printed at the end) and prints the top of each.
# Same needs as run.sh (port 443 for the origin).
set -euo pipefail
CLIENTS=${1:-64}
SECS=${2:-10}
OUT=${3:-$(mktemp -d)}
ORIGIN_PORT=${ORIGIN_PORT:-443}
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

go build -o "$W/trackaudit" ./cmd/trackaudit
go build -o "$W/proxybench" ./bench/proxy
"$W/proxybench" origin -listen "127.0.0.1:$ORIGIN_PORT" -ca-out "$W/origin-ca.pem" & PIDS+=($!)
for _ in $(seq 100); do [ -s "$W/origin-ca.pem" ] && break; sleep 0.1; done
TRACKAUDIT_CPUPROFILE="$OUT/cpu.pprof" TRACKAUDIT_MEMPROFILE="$OUT/mem.pprof" \
  XDG_CONFIG_HOME="$W/cfg" XDG_DATA_HOME="$W/data" "$W/trackaudit" proxy --listen 127.0.0.1:18081 \
  --capture "$W/bench.db" --upstream-ca "$W/origin-ca.pem" --color never >"$W/ta.out" 2>"$W/ta.err" & TA=$!; PIDS+=($TA)
for _ in $(seq 100); do [ -s "$W/cfg/trackaudit/ca-cert.pem" ] && break; sleep 0.1; done
sleep 1
URL="https://127.0.0.1/"
[ "$ORIGIN_PORT" = 443 ] || URL="https://127.0.0.1:$ORIGIN_PORT/"
"$W/proxybench" load -name trackaudit -url "$URL" -d "${SECS}s" -c "$CLIENTS" -proxy http://127.0.0.1:18081 -ca "$W/cfg/trackaudit/ca-cert.pem" -pid "$TA"
echo "peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$TA/status")"
kill -INT "$TA"; wait "$TA" 2>/dev/null || true
cp "$W/trackaudit" "$OUT/trackaudit.bin"
go tool pprof -top -nodecount=40 "$OUT/trackaudit.bin" "$OUT/cpu.pprof" 2>/dev/null | head -50
go tool pprof -top -sample_index=alloc_space -nodecount=25 "$OUT/trackaudit.bin" "$OUT/mem.pprof" 2>/dev/null | head -35
echo "profiles in $OUT"
