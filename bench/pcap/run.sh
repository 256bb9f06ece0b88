#!/bin/sh
# Offline pcap benchmark: trackaudit analyze (full pipeline) and
# capture.ReadPCAP alone vs tshark on the same generated captures.
# Usage: bench/pcap/run.sh [RUNS]   (from the repository root; default 3 runs, median taken)
set -eu
RUNS=${1:-3}
W=${BENCH_DIR:-$(mktemp -d)}
echo "work dir: $W"
go build -o "$W/gen" ./bench/pcap/gen
go build -o "$W/readpcap" ./bench/pcap/readpcap
HAVE_TA=0
if go build -o "$W/trackaudit" ./cmd/trackaudit 2>"$W/build.log"; then HAVE_TA=1; else
	echo "note: cmd/trackaudit does not build yet; measuring ReadPCAP alone (see $W/build.log)"; fi
HAVE_TS=0; command -v tshark >/dev/null 2>&1 && HAVE_TS=1

# measure NAME CMD...: runs CMD RUNS times, prints median wall s and max RSS MiB
measure() {
	name=$1; shift
	: >"$W/times"
	i=0
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f "%e %M" -o "$W/t1" "$@" >/dev/null 2>"$W/err" || { echo "$name failed:"; cat "$W/err"; return 1; }
		cat "$W/t1" >>"$W/times"; i=$((i+1))
	done
	sort -n "$W/times" | awk -v n="$RUNS" -v name="$name" 'NR==int((n+1)/2){wall=$1} {if($2>rss)rss=$2} END{printf "%s %.3f %.1f\n", name, wall, rss/1024}'
}

# Two kinds of capture (see gen/): "stress", where nothing repeats, and
# "browse", browsing-like traffic with stable cookies and page loads.
for MODE in stress browse; do
for N in 100000 400000; do
	F="$W/$MODE$N.pcap"
	if [ $MODE = browse ]; then "$W/gen" -browse -n "$N" -o "$F"; else "$W/gen" -n "$N" -o "$F"; fi
	MB=$(stat -c %s "$F" | awk '{printf "%.1f", $1/1e6}')
	echo "== $F: $MB MB, $N requests ($MODE)"
	: >"$W/res"
	measure readpcap "$W/readpcap" "$F" >>"$W/res"
	[ $HAVE_TA = 1 ] && measure analyze "$W/trackaudit" analyze --format json "$F" >>"$W/res"
	[ $HAVE_TS = 1 ] && measure tshark tshark -n -r "$F" -Y http.request -T fields -e http.host -e http.request.uri -e http.cookie -e http.referer >>"$W/res"
	awk -v mb="$MB" -v n="$N" '{wall[$1]=$2; printf "%-9s wall %7.3f s  %7.1f MB/s  %9.0f requests/s  peak RSS %6.1f MiB\n", $1, $2, mb/$2, n/$2, $3}
		END{ if ("tshark" in wall) { for (k in wall) if (k != "tshark") printf "ratio %s vs tshark: %.1fx\n", k, wall["tshark"]/wall[k] } }' "$W/res"
done
done
