#!/usr/bin/env bash
# Before/after check for a refactor (issue 12, "No speed lost"): the same HTTP and TFTP scenarios
# against `polyprov serve` from two checkouts, interleaved (A B A B A B) so a load spike on this
# shared 2-core machine hits both. Prints one line per run: tree, scenario, result, server CPU.
#   bench/compare-trees.sh OLD_TREE NEW_TREE [ROUNDS]
# HTTP: wrk -t1 -c50 -d8s keep-alive on a 1 KB per-phone file (req/s). TFTP: tftp-hpa fetching a
# 5 MB image, lock-step at the default 512-byte blocks (seconds). Needs wrk and tftp (tftp-hpa).
set -euo pipefail
A=$(realpath "$1"); B=$(realpath "$2"); ROUNDS=${3:-3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root=$work/root; mkdir -p "$root"
printf '<?xml version="1.0"?>\n<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="0004f2000001-line.cfg" />\n' > "$root/000000000000.cfg"
printf '<polycomConfig reg.1.address="1001" %s/>\n' "$(for i in $(seq 1 60); do printf 'feature.f%d="1" ' "$i"; done)" > "$root/0004f2000001-line.cfg"
head -c 5000000 /dev/urandom > "$root/sip.ld"
cat > "$work/opts.json" <<JSON
{ "rateLimitPerSec": 1000000, "rateLimitBurst": 1000000, "tftpSecretAllow": ["127.0.0.0/8"] }
JSON
cpu() { awk '{print ($14+$15)/100}' "/proc/$1/stat"; }
run() { # tree label
  local tree=$1 label=$2 data=$work/data-$RANDOM
  mkdir -m 700 "$data"
  "$tree/bin/polyprov" serve --root "$root" --data "$data" --config "$work/opts.json" --policy open --log-level silent \
    --http 127.0.0.1:18080 --tftp 127.0.0.1:18069 > "$work/serve.out" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18080/000000000000.cfg && break; sleep 0.3; done
  local node; node=$(pgrep -P "$pid" -n node || echo "$pid")
  wrk -t1 -c50 -d2s http://127.0.0.1:18080/0004f2000001-line.cfg > /dev/null # warm-up
  local c0; c0=$(cpu "$node")
  local rps; rps=$(wrk -t1 -c50 -d8s http://127.0.0.1:18080/0004f2000001-line.cfg | awk '/Requests\/sec/ {print $2}')
  local c1; c1=$(cpu "$node")
  local t0; t0=$(date +%s.%N)
  tftp -m binary 127.0.0.1 18069 -c get sip.ld "$work/got.ld" > /dev/null 2>&1 || true
  local t1; t1=$(date +%s.%N)
  cmp -s "$root/sip.ld" "$work/got.ld" && ok=ok || ok=MISMATCH
  printf '%s http_keepalive_rps=%s http_cpu_ms_per_req=%s tftp_5MB_s=%s (%s)\n' "$label" "$rps" \
    "$(awk -v a="$c0" -v b="$c1" -v r="$rps" 'BEGIN{printf "%.4f", (b-a)*1000/(r*8)}')" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')" "$ok"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  rm -f "$work/got.ld"
}
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then run "$A" before; run "$B" after; else run "$B" after; run "$A" before; fi
done
