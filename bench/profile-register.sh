#!/usr/bin/env bash
# Fixed-rate REGISTER load against a sipmeet server started with extra Node flags, for profiling (not a test):
#   bench/profile-register.sh RATE SECONDS [node flags...]
# e.g. bench/profile-register.sh 8000 10 --cpu-prof --cpu-prof-dir=/tmp/prof
#      SERVER_OUT=/tmp/gc.txt bench/profile-register.sh 8000 10 --trace-gc
# Prints the server's CPU time per REGISTER (utime+stime of the process over the sipp run / REGISTERs sent),
# its RSS and sipp's summary. The server is stopped with SIGINT so --cpu-prof writes its profile.
set -euo pipefail
rate=${1:?rate}; secs=${2:?seconds}; shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -n "${srv:-}" ] && kill -INT "$srv" 2>/dev/null || true' EXIT
port=$(python3 -c 'import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
node "$@" "$root/registrar/cli/sipmeet.js" server --host 127.0.0.1 --sip-port "$port" --http-port 0 --log-level warn \
  >"$work/server.out" 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
{ echo SEQUENTIAL; for i in $(seq 0 19999); do echo "u$i"; done; } >"$work/users.csv"
ticks() { awk '{print $14+$15}' "/proc/$srv/stat"; }
t0=$(ticks)
calls=$((rate * secs))
sipp "127.0.0.1:$port" -sf "$root/bench/sipp/register.xml" -inf "$work/users.csv" -key user_prefix p0- \
  -i 127.0.0.1 -t u1 -m "$calls" -r "$rate" -rp 1000 -l $((rate * 2)) -recv_timeout 5000 -nd \
  -buff_size 4194304 -nostdin -trace_stat -stf "$work/stat.csv" -fd 1 >/dev/null 2>&1 || true
t1=$(ticks)
hz=$(getconf CLK_TCK)
rss=$(awk '/VmRSS/{print $2}' "/proc/$srv/status")
tail -1 "$work/stat.csv" | awk -F';' -v h="$(head -1 "$work/stat.csv")" 'BEGIN{n=split(h,H,";")}
  {for(i=1;i<=n;i++) if (H[i] ~ /^(SuccessfulCall|FailedCall|Retransmissions)\(C\)$/) printf "%s=%s ", H[i], $i; print ""}'
awk -v d="$((t1 - t0))" -v hz="$hz" -v n="$calls" -v s="$secs" -v rss="$rss" \
  'BEGIN{printf "server CPU: %.1f us/REGISTER (%d%% of a core), RSS %s kB\n", d*1e6/hz/n, d*100/hz/s, rss}'
kill -INT "$srv"; wait "$srv" 2>/dev/null || true; srv=
# SERVER_OUT=file keeps the server's whole output (e.g. --trace-gc lines).
if [ -n "${SERVER_OUT:-}" ]; then cp "$work/server.out" "$SERVER_OUT"; else grep -v '^{' "$work/server.out" | tail -5 || true; fi
