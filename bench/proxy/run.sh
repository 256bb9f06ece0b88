#!/usr/bin/env bash
# Proxy benchmark: HTTPS keep-alive requests/s and added latency through
# the real `trackaudit proxy` binary (detectors and capture on), a bare
# goproxy MITM (baregoproxy/) and mitmdump, at 8 and 64 clients, in
# interleaved rounds; then peak RSS (VmHWM) of each proxy.
#
#   bench/proxy/run.sh [ROUNDS] [SECONDS]      (from the repository root)
#   BEFORE=<git revision> bench/proxy/run.sh …  also runs `trackaudit proxy`
#                                              built from that revision, as
#                                              variant "before"
#
# Each result line also gives the proxy process's CPU time per request
# (user + system, from /proc), which varies far less than throughput on a
# shared box. NO_MITMDUMP=1 leaves mitmdump out (quicker A/B runs).
# LOAD_ARGS="-mix 4" makes 1 request in 4 the third-party tracker request
# and the rest the page's own first-party requests (default: all tracker).
#
# Needs: Go, mitmdump (Debian package mitmproxy; skipped if missing), and
# permission to bind 127.0.0.1:443 for the origin (or ORIGIN_PORT=8443,
# which makes every proxy tunnel rather than intercept: do not use that for
# comparisons).
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-5}
ORIGIN_PORT=${ORIGIN_PORT:-443}
cd "$(dirname "$0")/../.."
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT

go build -o "$W/trackaudit" ./cmd/trackaudit
go build -o "$W/proxybench" ./bench/proxy
go build -o "$W/baregoproxy" ./bench/proxy/baregoproxy
if [ -n "${BEFORE:-}" ]; then
  mkdir "$W/before-src"
  git archive "$BEFORE" | tar -x -C "$W/before-src"
  (cd "$W/before-src" && go build -o "$W/trackaudit-before" ./cmd/trackaudit)
fi

"$W/proxybench" origin -listen "127.0.0.1:$ORIGIN_PORT" -ca-out "$W/origin-ca.pem" & PIDS+=($!)
"$W/baregoproxy" -listen 127.0.0.1:18082 -ca-out "$W/bare-ca.pem" -upstream-ca "$W/origin-ca.pem" & BARE=$!; PIDS+=($BARE)
XDG_CONFIG_HOME="$W/cfg" XDG_DATA_HOME="$W/data" "$W/trackaudit" proxy --listen 127.0.0.1:18081 \
  --capture "$W/bench.db" --upstream-ca "$W/origin-ca.pem" --color never >"$W/ta.out" 2>"$W/ta.err" & TA=$!; PIDS+=($TA)
MITM=""
if [ -z "${NO_MITMDUMP:-}" ] && command -v mitmdump >/dev/null; then
  mitmdump -q --listen-host 127.0.0.1 -p 18083 --set confdir="$W/mitm" \
    --set ssl_verify_upstream_trusted_ca="$W/origin-ca.pem" >/dev/null 2>&1 & MITM=$!; PIDS+=($MITM)
fi
for f in "$W/origin-ca.pem" "$W/bare-ca.pem" "$W/cfg/trackaudit/ca-cert.pem" ${MITM:+"$W/mitm/mitmproxy-ca-cert.pem"}; do
  for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
done
# The older build shares the CA, so it starts once the CA exists.
OLD=""
if [ -n "${BEFORE:-}" ]; then
  XDG_CONFIG_HOME="$W/cfg" XDG_DATA_HOME="$W/data" "$W/trackaudit-before" proxy --listen 127.0.0.1:18084 \
    --capture "$W/before.db" --upstream-ca "$W/origin-ca.pem" --color never >/dev/null 2>&1 & OLD=$!; PIDS+=($OLD)
fi
sleep 1

URL="https://127.0.0.1/"
[ "$ORIGIN_PORT" = 443 ] || URL="https://127.0.0.1:$ORIGIN_PORT/"
run() { "$W/proxybench" load -url "$URL" -d "${SECS}s" ${LOAD_ARGS:-} "$@" | tee -a "$W/results.txt"; }
for c in 8 64; do
  for r in $(seq "$ROUNDS"); do
    run -name direct -c "$c" -ca "$W/origin-ca.pem"
    run -name goproxy -c "$c" -proxy http://127.0.0.1:18082 -ca "$W/bare-ca.pem" -pid "$BARE"
    run -name trackaudit -c "$c" -proxy http://127.0.0.1:18081 -ca "$W/cfg/trackaudit/ca-cert.pem" -pid "$TA"
    [ -n "$OLD" ] && run -name before -c "$c" -proxy http://127.0.0.1:18084 -ca "$W/cfg/trackaudit/ca-cert.pem" -pid "$OLD"
    [ -n "$MITM" ] && run -name mitmdump -c "$c" -proxy http://127.0.0.1:18083 -ca "$W/mitm/mitmproxy-ca-cert.pem" -pid "$MITM"
  done
done
echo
"$W/proxybench" summary <"$W/results.txt"
echo
echo "| proxy | peak RSS (VmHWM) after all loads |"
echo "|---|---|"
for pair in "trackaudit:$TA" ${OLD:+"before:$OLD"} "goproxy:$BARE" ${MITM:+"mitmdump:$MITM"}; do
  echo "| ${pair%%:*} | $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/${pair#*:}/status") |"
done
kill -INT "$TA"; wait "$TA" 2>/dev/null || true
echo
echo "trackaudit: $(grep -c . "$W/ta.out" || true) lines of report/live output; $(tail -1 "$W/ta.err")"
