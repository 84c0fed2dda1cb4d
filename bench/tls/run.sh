#!/bin/sh
# TLS benchmark: HTTP/1.1 over TLS through HAProxy 2.6, nginx and mosn.ts (one core each), and
# TLS handshakes per second (every request on a new connection: full TLS 1.3 handshake, ECDSA
# P-256 certificate from tests/fixtures/tls). Same method as bench/reference/METHOD.md: proxy on
# cpu1, wrk and the nginx origin on cpu0, rounds interleaved, medians printed; plus the proxy's
# CPU time per request / handshake from /proc (robust when the machine is shared).
#   usage: bench/tls/run.sh [rounds=3] [duration=10s]     (run from the repo root)
set -eu
ROUNDS=${1:-3}
DUR=${2:-10s}
REPO=$(pwd)
DIR=$(mktemp -d)
FIX=$REPO/tests/fixtures/tls
cat "$FIX/a.pem" "$FIX/a.key" > "$DIR/haproxy.pem"
mkdir -p "$DIR/logs"
ORIGIN=29180; HAP=29181; NGX=29182; MOSN=29183; MOSN_ADMIN=29193

cat > "$DIR/origin.conf" <<CONF
daemon off; worker_processes 1; pid $DIR/logs/origin.pid; error_log $DIR/logs/origin.err warn;
events { worker_connections 8192; }
http { access_log off; keepalive_timeout 600s; keepalive_requests 10000000;
  server { listen 127.0.0.1:$ORIGIN backlog=4096; location = /hello { default_type text/plain; return 200 "hello"; } } }
CONF
cat > "$DIR/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $DIR/logs/nginx.pid; error_log $DIR/logs/nginx.err warn;
events { worker_connections 8192; }
http { access_log off; keepalive_timeout 600s; keepalive_requests 10000000;
  upstream o { server 127.0.0.1:$ORIGIN; keepalive 64; }
  server { listen 127.0.0.1:$NGX ssl backlog=4096; ssl_certificate $FIX/a.pem; ssl_certificate_key $FIX/a.key;
    ssl_session_cache off; ssl_session_tickets off;
    location / { proxy_pass http://o; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat > "$DIR/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 8000
  tune.ssl.cachesize 0
defaults
  mode http
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 600s
frontend fe
  bind 127.0.0.1:$HAP ssl crt $DIR/haproxy.pem no-tls-tickets
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:$ORIGIN
CONF
cat > "$DIR/mosn.json" <<CONF
{ "servers": [{ "default_log_level": "ERROR",
  "routers": [{ "router_config_name": "r", "virtual_hosts": [{ "name": "v", "domains": ["*"],
    "routers": [{ "match": { "prefix": "/" }, "route": { "cluster_name": "o" } }] }] }],
  "listeners": [{ "name": "tls", "address": "127.0.0.1:$MOSN",
    "filter_chains": [{ "tls_context": { "status": true, "cert_chain": "$FIX/a.pem", "private_key": "$FIX/a.key" },
      "filters": [{ "type": "proxy", "config": { "downstream_protocol": "Http1", "router_config_name": "r" } }] }] }] }],
  "cluster_manager": { "clusters": [{ "name": "o", "type": "SIMPLE", "lb_type": "LB_ROUNDROBIN",
    "hosts": [{ "address": "127.0.0.1:$ORIGIN" }] }] },
  "admin": { "address": { "socket_address": { "address": "127.0.0.1", "port_value": $MOSN_ADMIN } } } }
CONF

PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
taskset -c 0 nginx -c "$DIR/origin.conf" -e "$DIR/logs/origin.err" & PIDS="$PIDS $!"

start() { # name → sets PID
  case $1 in
    haproxy) taskset -c 1 haproxy -f "$DIR/haproxy.cfg" & PID=$!; PORT=$HAP ;;
    nginx) taskset -c 1 nginx -c "$DIR/nginx.conf" -e "$DIR/logs/nginx.err" & PID=$!; PORT=$NGX ;;
    mosn) taskset -c 1 "$REPO/tools/deno/node_modules/@deno/linux-x64-glibc/deno" run -A \
      --unstable-net "$REPO/src/main.ts" start -c "$DIR/mosn.json" & PID=$!; PORT=$MOSN ;;
  esac
  for _ in $(seq 1 100); do
    curl -sk --max-time 1 "https://127.0.0.1:$PORT/hello" >/dev/null 2>&1 && return 0; sleep 0.1
  done
  echo "$1 did not start" >&2; exit 1
}
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
reqs() { sed -n 's/^ *\([0-9]*\) requests in .*/\1/p'; }
# CPU ticks (utime+stime, 1/100 s) of a process and its children (nginx's worker).
ticks() {
  t=0
  for q in $1 $(pgrep -P "$1" || true); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$q/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}
# µs of proxy CPU per operation: ticks delta × 10000 / count.
per_op() { awk -v d="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", d * 10000 / n; else print "-" }'; }

RESULTS=$DIR/results
: > "$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  for p in haproxy nginx mosn; do
    start $p
    taskset -c 0 wrk -t1 -c50 -d3s "https://127.0.0.1:$PORT/hello" >/dev/null 2>&1 # warm-up
    t0=$(ticks $PID)
    out=$(taskset -c 0 wrk -t1 -c50 -d"$DUR" "https://127.0.0.1:$PORT/hello")
    t1=$(ticks $PID)
    ka=$(echo "$out" | rps); ka_us=$(per_op $((t1 - t0)) "$(echo "$out" | reqs)")
    out=$(taskset -c 0 wrk -t1 -c50 -d"$DUR" -H "Connection: close" "https://127.0.0.1:$PORT/hello")
    t2=$(ticks $PID)
    hs=$(echo "$out" | rps); hs_us=$(per_op $((t2 - t1)) "$(echo "$out" | reqs)")
    # Handshakes alone: 2 openssl s_time clients (new session each time, no request), summed.
    taskset -c 0 openssl s_time -connect "127.0.0.1:$PORT" -new -time 5 > "$DIR/st1" 2>/dev/null &
    S1=$!
    taskset -c 0 openssl s_time -connect "127.0.0.1:$PORT" -new -time 5 > "$DIR/st2" 2>/dev/null &
    S2=$!
    wait $S1 $S2 || true
    t3=$(ticks $PID)
    n=$(cat "$DIR/st1" "$DIR/st2" | sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' |
      awk '{s+=$1} END {print s+0}')
    st=$((n / 5)); st_us=$(per_op $((t3 - t2)) "$n")
    echo "$p $ka $hs $st $ka_us $hs_us $st_us" >> "$RESULTS"
    echo "round $r $p: keep-alive $ka req/s ($ka_us µs CPU/req), new connection per request $hs req/s ($hs_us µs/req), s_time $st handshakes/s ($st_us µs/handshake)" >&2
    kill $PID; wait $PID 2>/dev/null || true
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Throughput depends on what else runs on the machine; proxy CPU µs per operation much less so.
echo "| proxy | keep-alive req/s | µs CPU/req | new TLS conn per req, req/s | µs CPU/req | s_time handshakes/s | µs CPU/handshake |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for p in haproxy nginx mosn; do
  row="| $p |"
  for col in 2 5 3 6 4 7; do
    row="$row $(awk -v p=$p -v c=$col '$1==p {print $c}' "$RESULTS" | median) |"
  done
  echo "$row"
done
