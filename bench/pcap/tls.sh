#!/bin/sh
# HTTPS decryption benchmark: `trackaudit analyze --keylog` (decryption,
# HTTP/2 or HTTP/3 parsing and the full detector pipeline) vs tshark
# decrypting the same capture with the same key log (Wireshark's TLS and
# HTTP/2 dissectors, printing host, path, cookie and referer of each
# request; for HTTP/3 its QUIC and HTTP/3 dissectors, printing the frame
# types, as tshark 4.0 does not decode HTTP/3's compressed headers).
# Usage: bench/pcap/tls.sh [RUNS] [REQUESTS] [h2|h3]   (from the repository
# root; default 3 runs, median taken, 20000 requests, h2)
set -eu
RUNS=${1:-3}
N=${2:-20000}
PROTO=${3:-h2}
W=${BENCH_DIR:-$(mktemp -d)}
echo "work dir: $W"
go build -o "$W/tlsgen" ./bench/pcap/tlsgen
go build -o "$W/trackaudit" ./cmd/trackaudit
F="$W/tls.pcap"
K="$W/tls.keys"
if [ "$PROTO" = h3 ]; then
	"$W/tlsgen" -h3 -n "$N" -o "$F" -keys "$K"
	WHAT="HTTP/3 over QUIC"
else
	"$W/tlsgen" -n "$N" -o "$F" -keys "$K"
	WHAT="HTTP/2 over TLS 1.3"
fi
MB=$(stat -c %s "$F" | awk '{printf "%.1f", $1/1e6}')
echo "== $F: $MB MB, $N HTTPS requests ($WHAT)"

# measure NAME CMD...: runs CMD RUNS times, prints median wall s and max RSS MiB
measure() {
	name=$1; shift
	: >"$W/times"
	i=0
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f "%e %M" -o "$W/t1" "$@" >"$W/out" 2>"$W/err" || { echo "$name failed:"; cat "$W/err"; return 1; }
		cat "$W/t1" >>"$W/times"; i=$((i+1))
	done
	sort -n "$W/times" | awk -v n="$RUNS" -v name="$name" 'NR==int((n+1)/2){wall=$1} {if($2>rss)rss=$2} END{printf "%s %.3f %.1f\n", name, wall, rss/1024}'
}

: >"$W/res"
measure analyze "$W/trackaudit" analyze --format json --keylog "$K" "$F" >>"$W/res"
grep -o '"tls_decrypted": [0-9]*' "$W/out" || { echo "analyze decrypted nothing"; exit 1; }
grep -o '"exchanges": [0-9]*' "$W/out" | head -1
if command -v tshark >/dev/null 2>&1; then
	if [ "$PROTO" = h3 ]; then
		measure tshark tshark -n -r "$F" -o "tls.keylog_file:$K" -Y "http3.frame_type == 1 && udp.dstport == 443" -T fields \
			-e http3.frame_type >>"$W/res"
		echo "tshark packets with HTTP/3 HEADERS from the client: $(wc -l <"$W/out")"
	else
		measure tshark tshark -n -r "$F" -o "tls.keylog_file:$K" -Y http2.headers.method -T fields \
			-e http2.headers.authority -e http2.headers.path -e http2.headers.cookie -e http2.headers.referer >>"$W/res"
		echo "tshark requests: $(wc -l <"$W/out")"
	fi
fi
awk -v mb="$MB" -v n="$N" '{wall[$1]=$2; printf "%-9s wall %7.3f s  %7.1f MB/s  %9.0f requests/s  peak RSS %6.1f MiB\n", $1, $2, mb/$2, n/$2, $3}
	END{ if ("tshark" in wall) printf "ratio analyze vs tshark: %.1fx\n", wall["tshark"]/wall["analyze"] }' "$W/res"
