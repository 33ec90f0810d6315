#!/usr/bin/env bash
# Tests the deployment recipe on this machine, end to end:
#   npm run build, then nginx (the Debian package, with deploy/nginx/iryo-portal.conf) → two instances of the build
#   (the unit's ExecStart: node dist/server.js, no loader) on PostgreSQL and Redis,
#   the whole password reset through nginx over HTTPS while one instance is stopped (SIGTERM) and started again.
#
# Everything is throwaway: a temporary directory, an nginx started with its own prefix and configuration on
# free local ports (never the system service, never port 80/443), a fresh PostgreSQL schema, a mail sink.
# All of it is removed at the end, also on failure or timeout.
#
#   deploy/test-deployment.sh            prints progress, then one line: "PASS deployment: …" or "FAIL deployment: …"
#   exit 0 = PASS, 1 = FAIL, 77 = SKIP (a prerequisite is missing: the line "SKIP deployment: …" says which)
#
# Settings (environment): TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
# TEST_REDIS_URL (default redis://127.0.0.1:6379), DEPLOY_TEST_TIMEOUT (seconds, default 120),
# KEEP_WORK=1 keeps the temporary directory (logs) for a look after a failure.
# Installs nginx with apt-get when it is missing and this runs as root (the package's service is not started).
#
# The instances run with NODE_ENV=test and CAPTCHA_TEST_ANSWER so that a script can pass the CAPTCHA (the answer
# is accepted only with NODE_ENV=test); everything else is as in production.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
LIMIT=${DEPLOY_TEST_TIMEOUT:-120}
NODE=${NODE:-node}
CAPTCHA=w7rbh
HOSTNAME_=portal.example.jp

REPORTED=0
WORK=''
SCHEMA=''
NGINX_PID=''
SINK_PID=''
LOAD_PID=''
WATCHDOG_PID=''
POLICY_RC_CREATED=0
declare -A APP_PID=()
ERR_AT=''
EXTRA_HEADER=''

step() { printf '  - %s\n' "$*"; }
pass() { REPORTED=1; echo "PASS deployment: $*"; exit 0; }
fail() { REPORTED=1; echo "FAIL deployment: $*"; exit 1; }
skip() { REPORTED=1; echo "SKIP deployment: $*"; exit 77; }

trap 'ERR_AT="line $LINENO: $BASH_COMMAND"' ERR
trap 'fail "timed out after ${LIMIT}s"' USR1
trap 'fail "interrupted"' INT TERM

cleanup() {
  local rc=$?
  set +e
  trap - ERR
  if [ "$REPORTED" = 0 ] && [ "$rc" != 0 ]; then REPORTED=1; echo "FAIL deployment: unexpected error (${ERR_AT:-exit $rc})"; rc=1; fi
  [ -n "$WATCHDOG_PID" ] && kill "$WATCHDOG_PID" 2>/dev/null
  if [ -n "$LOAD_PID" ]; then
    command -v pkill >/dev/null && pkill -TERM -P "$LOAD_PID" 2>/dev/null
    kill "$LOAD_PID" 2>/dev/null
  fi
  local port
  for port in "${!APP_PID[@]}"; do kill -TERM "${APP_PID[$port]}" 2>/dev/null; done
  for port in "${!APP_PID[@]}"; do
    for _ in $(seq 1 100); do kill -0 "${APP_PID[$port]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${APP_PID[$port]}" 2>/dev/null
  done
  [ -n "$SINK_PID" ] && kill -TERM "$SINK_PID" 2>/dev/null
  if [ -n "$NGINX_PID" ]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null
  fi
  wait 2>/dev/null
  [ -n "$SCHEMA" ] && pg_sql "$PG_URL" "drop schema if exists $SCHEMA cascade" >/dev/null 2>&1
  [ "$POLICY_RC_CREATED" = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$rc" = 1 ]; then
      local f
      for f in "$WORK"/app-*.log "$WORK"/nginx/logs/*.log "$WORK"/sink.log; do
        [ -s "$f" ] && { echo "--- last lines of ${f#"$WORK"/}:" >&2; tail -n 25 "$f" >&2; }
      done
    fi
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "  (kept $WORK)" >&2; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT

# ---- helpers ---------------------------------------------------------------------------------------------

# pg_sql URL SQL: runs one statement with the app's own driver (no psql needed); prints rows tab-separated.
pg_sql() {
  (cd "$ROOT" && PGURL="$1" SQL="$2" "$NODE" -e '
    const pg = require("pg");
    const c = new pg.Client({ connectionString: process.env.PGURL, connectionTimeoutMillis: 3000 });
    c.connect().then(() => c.query(process.env.SQL))
      .then((r) => { for (const row of r.rows ?? []) console.log(Object.values(row).join("\t")); return c.end(); })
      .catch((e) => { console.error(e.message); process.exit(1); });')
}

redis_ping() {
  (cd "$ROOT" && RURL="$1" "$NODE" -e '
    const { Redis } = require("ioredis");
    const r = new Redis(process.env.RURL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
    r.connect().then(() => r.ping()).then((p) => { r.disconnect(); process.exit(p === "PONG" ? 0 : 1); }, () => process.exit(1));') 2>/dev/null
}

# Distinct free local ports, all held open at once while they are chosen.
free_ports() {
  "$NODE" -e '
    const net = require("net"); const n = Number(process.argv[1]); const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) servers.push(await new Promise((ok) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => ok(s)); }));
      console.log(servers.map((s) => s.address().port).join(" "));
      for (const s of servers) s.close();
    })();' "$1"
}

# Starts one instance with the ExecStart of deploy/systemd/iryo-portal@.service (the build: node dist/server.js),
# this machine's node, and the shared settings.
start_instance() {
  local port=$1
  (cd "$ROOT" && exec env -i PATH="$PATH" HOME="$WORK" "${APP_ENV[@]}" PORT="$port" "${SERVER_CMD[@]}") >>"$WORK/app-$port.log" 2>&1 &
  APP_PID[$port]=$!
}

# The instance is the built server under plain node: its command line is the unit's, with no --import/--loader/
# --require (a loader such as tsx can only come in that way or through NODE_OPTIONS, which it must not have either).
assert_plain_node() {
  local port=$1 pid=${APP_PID[$1]} args
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [ "${args% }" = "${SERVER_CMD[*]}" ] || fail "the instance on port $port runs '$args', not the unit's '${SERVER_CMD[*]}'"
  case " $args" in *" --import"* | *" --loader"* | *" --experimental-loader"* | *" -r "* | *" --require"* | *tsx*) fail "the instance on port $port runs with a loader: $args" ;; esac
  if tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^NODE_OPTIONS='; then fail "the instance on port $port has NODE_OPTIONS set"; fi
}

wait_ready() {
  local port=$1
  for _ in $(seq 1 300); do
    kill -0 "${APP_PID[$port]}" 2>/dev/null || fail "the instance on port $port stopped while starting (see its log below)"
    if curl -fsS --max-time 2 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  fail "the instance on port $port was not ready within 60 s"
}

# A browser: one cookie jar, HTTPS to nginx with the test certificate, from our own loopback address.
browser() {
  curl -sS --max-time 15 --cacert "$WORK/tls/cert.pem" --resolve "$HOSTNAME_:$PHTTPS:127.0.0.1" \
    --interface "$CLIENT_IP" -b "$JAR" -c "$JAR" -o "$WORK/page.html" -w '%{http_code} %{url_effective}' "$@"
}

# visit URL [curl options]: GET (following redirects); sets STATUS and URL (where it ended).
visit() {
  local out
  out=$(browser -L "$@")
  STATUS=${out%% *}
  URL=${out#* }
}

# submit FIELD=VALUE…: posts the page's first form (not the logout form) with its CSRF token, follows the 303.
submit() {
  local action csrf args=() kv
  action=$(grep -o '<form method="post" action="[^"]*"' "$WORK/page.html" | sed 's/.*action="\([^"]*\)"/\1/; s/&amp;/\&/g' | grep -v '^/logout$' | head -n 1 || true)
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/page.html" | head -n 1 | sed 's/.*value="\([^"]*\)"/\1/' || true)
  [ -n "$action" ] || fail "no form on $URL"
  for kv in "$@" "_csrf=$csrf"; do args+=(--data-urlencode "$kv"); done
  visit "$BASE$action" "${args[@]}" ${EXTRA_HEADER:+-H "$EXTRA_HEADER"}
}

page_has() { grep -qF -- "$1" "$WORK/page.html"; }
expect_page() { # expect_page TEXT WHAT [STATUS]
  [ "$STATUS" = "${3:-200}" ] && page_has "$1" || fail "$2: expected 「$1」 with ${3:-200}, got $STATUS at $URL"
}

# ---- prerequisites -----------------------------------------------------------------------------------------

command -v "$NODE" >/dev/null || skip "node is not installed"
command -v curl >/dev/null || skip "curl is not installed"
command -v openssl >/dev/null || skip "openssl is not installed (needed for the test certificate)"
[ -d "$ROOT/node_modules/tsx" ] && [ -d "$ROOT/node_modules/smtp-server" ] || skip "run npm install first (tsx and the dev dependencies are needed)"
if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    step "installing nginx from the Debian archive (apt-get install -y nginx; its service is not started)"
    # Keep the package from starting the system service (port 80): policy-rc.d tells invoke-rc.d not to.
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; POLICY_RC_CREATED=1; fi
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q nginx >/dev/null 2>&1 \
      || { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q nginx >/dev/null 2>&1; } \
      || skip "nginx is not installed and apt-get install nginx failed"
    [ "$POLICY_RC_CREATED" = 1 ] && { rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; }
  else
    skip "nginx is not installed (install the Debian package: apt-get install nginx)"
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
# -e (error log before the configuration is read) exists since nginx 1.19.5 (Debian 12 has 1.22).
NGINX_HAS_E=0
if "$NGINX" -h 2>&1 | grep -q -- '-e filename'; then NGINX_HAS_E=1; fi
pg_sql "$PG_URL" "select 1" >/dev/null 2>&1 || skip "PostgreSQL does not answer at $PG_URL"
redis_ping "$REDIS_URL" || skip "Redis does not answer at $REDIS_URL"

# From here on the run is bounded in time.
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM; sleep "$LIMIT" & sp=$!; wait "$sp"; kill -USR1 $$ ) 2>/dev/null &
WATCHDOG_PID=$!

WORK=$(mktemp -d "${TMPDIR:-/tmp}/iryo-deploy.XXXXXX")
mkdir -p "$WORK/tls" "$WORK/mail" "$WORK/nginx/logs" "$WORK/nginx/tmp" "$WORK/nginx/acme"
read -r P1 P2 PHTTPS PHTTP PSMTP < <(free_ports 5)
# Our own loopback address: the instances must log it (X-Forwarded-For from nginx, TRUST_PROXY), not nginx's.
CLIENT_IP=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
curl -sS --max-time 2 --interface "$CLIENT_IP" "http://127.0.0.1:$PSMTP/" >/dev/null 2>&1 || true
RUN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
SCHEMA="deploy_$RUN"
USERNAME="deploy-$RUN"
EMAIL="deploy-$RUN@example.jp"
DISPLAY_NAME='デプロイ検証クリニック'
OLD_PASSWORD='Deploy2026Start'
NEW_PASSWORD='Deploy2026Renewed'
BASE="https://$HOSTNAME_:$PHTTPS"
JAR="$WORK/cookies.txt"
step "work directory $WORK; instances on $P1 and $P2, nginx on https $PHTTPS / http $PHTTP, client $CLIENT_IP"

# ---- database, mail sink, instances ------------------------------------------------------------------------

pg_sql "$PG_URL" "create schema $SCHEMA" >/dev/null
SEP='?'; case "$PG_URL" in *\?*) SEP='&' ;; esac
APP_DB_URL="$PG_URL${SEP}options=-c%20search_path%3D$SCHEMA"
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
AUDIT_KEY_=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
# The settings every instance shares (what /etc/iryo-portal/iryo-portal.env holds in production).
APP_ENV=(
  NODE_ENV=test CAPTCHA_TEST_ANSWER="$CAPTCHA" HOST=127.0.0.1 BASE_URL="$BASE"
  DATABASE_URL="$APP_DB_URL" REDIS_URL="$REDIS_URL" SMTP_URL="smtp://127.0.0.1:$PSMTP"
  SESSION_SECRET="$SECRET" AUDIT_KEY="$AUDIT_KEY_" TRUST_PROXY=127.0.0.1 DATA_DIR="$WORK/data" LOG_LEVEL=info
  RESET_REQUESTS_PER_IP_PER_HOUR=1000 FLOOD_LIMIT_PER_MINUTE=10000 MAIL_CLAIM_MS=30000
)
# The production build, as the recipe makes it (npm run build), and the unit's command for the instances.
(cd "$ROOT" && "$NODE" --import tsx scripts/build.ts) >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; fail "npm run build failed"; }
read -r -a SERVER_CMD < <(sed -n 's/^ExecStart=//p' "$ROOT/deploy/systemd/iryo-portal@.service" | sed "s#^/usr/bin/node #$NODE #")
[ "${SERVER_CMD[*]}" = "$NODE dist/server.js" ] || fail "deploy/systemd/iryo-portal@.service should start the build (node dist/server.js), not: ${SERVER_CMD[*]}"
step "built dist/ ($(tail -n 1 "$WORK/build.log"))"

step "fresh PostgreSQL schema $SCHEMA: migrate and create the account with the built CLI (node dist/cli.js)"
(cd "$ROOT" && env -i PATH="$PATH" HOME="$WORK" "${APP_ENV[@]}" "$NODE" dist/cli.js migrate) >"$WORK/cli.log" 2>&1 \
  || { cat "$WORK/cli.log" >&2; fail "node dist/cli.js migrate failed"; }
(cd "$ROOT" && env -i PATH="$PATH" HOME="$WORK" "${APP_ENV[@]}" "$NODE" dist/cli.js users create \
  --username "$USERNAME" --email "$EMAIL" --password "$OLD_PASSWORD" --name "$DISPLAY_NAME") >>"$WORK/cli.log" 2>&1 \
  || { cat "$WORK/cli.log" >&2; fail "node dist/cli.js users create failed"; }

(cd "$ROOT" && exec "$NODE" --import tsx deploy/test-support/mail-sink.ts "$PSMTP" "$WORK/mail") >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
step "starting two instances"
start_instance "$P1"
start_instance "$P2"
for _ in $(seq 1 150); do grep -q '^listening' "$WORK/sink.log" 2>/dev/null && break; sleep 0.2; done
grep -q '^listening' "$WORK/sink.log" || fail "the mail sink did not start"
wait_ready "$P1"
wait_ready "$P2"
assert_plain_node "$P1"
assert_plain_node "$P2"
step "both instances run the build with plain node (${SERVER_CMD[*]}), no loader"

# ---- nginx with deploy/nginx/iryo-portal.conf --------------------------------------------------------------

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$HOSTNAME_" \
  -addext "subjectAltName=DNS:$HOSTNAME_" -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" >/dev/null 2>&1 \
  || fail "openssl could not make the test certificate"
# The recipe's file, with only its ports, certificate and paths replaced.
sed -e "s/127\.0\.0\.1:3001/127.0.0.1:$P1/; s/127\.0\.0\.1:3002/127.0.0.1:$P2/" \
    -e '/listen \[::\]/d' \
    -e "s/listen 80;/listen 127.0.0.1:$PHTTP;/; s/listen 443 ssl http2;/listen 127.0.0.1:$PHTTPS ssl http2;/" \
    -e "s#/etc/letsencrypt/live/$HOSTNAME_/fullchain.pem#$WORK/tls/cert.pem#; s#/etc/letsencrypt/live/$HOSTNAME_/privkey.pem#$WORK/tls/key.pem#" \
    -e "s#/var/log/nginx/#$WORK/nginx/logs/#g; s#/var/www/letsencrypt#$WORK/nginx/acme#" \
    "$ROOT/deploy/nginx/iryo-portal.conf" >"$WORK/nginx/iryo-portal.conf"
if grep -nE '^[^#]*(/etc/|/var/|:300[12][^0-9]|listen (80|443))' "$WORK/nginx/iryo-portal.conf" >&2; then
  fail "deploy/nginx/iryo-portal.conf changed: the lines above escaped this script's substitutions"
fi
cat >"$WORK/nginx/nginx.conf" <<EOF
# Throwaway nginx for deploy/test-deployment.sh: the recipe's site file inside a minimal http block.
$(if [ "$(id -u)" = 0 ]; then echo 'user root;  # as root: workers may write the temporary files under the work directory'; fi)
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
    default_type application/octet-stream;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/nginx/iryo-portal.conf;
}
EOF
NGINX_E=()
if [ "$NGINX_HAS_E" = 1 ]; then NGINX_E=(-e "$WORK/nginx/logs/error.log"); fi
"$NGINX" -t -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" "${NGINX_E[@]}" >"$WORK/nginx/test.log" 2>&1 \
  || { cat "$WORK/nginx/test.log" >&2; fail "nginx -t refused the configuration"; }
"$NGINX" -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" "${NGINX_E[@]}" -g 'daemon off;' >>"$WORK/nginx/logs/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 50); do
  curl -s --max-time 2 --cacert "$WORK/tls/cert.pem" --resolve "$HOSTNAME_:$PHTTPS:127.0.0.1" -o /dev/null "$BASE/healthz" && break
  kill -0 "$NGINX_PID" 2>/dev/null || fail "nginx stopped while starting"
  sleep 0.1
done
step "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') in front of both instances"

# ---- the proxy itself --------------------------------------------------------------------------------------

code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $HOSTNAME_" "http://127.0.0.1:$PHTTP/csm?x=1")
[ "$code" = "301 https://$HOSTNAME_/csm?x=1" ] || fail "plain HTTP should redirect to HTTPS, got: $code"
code=$(curl -sS --max-time 5 --cacert "$WORK/tls/cert.pem" --resolve "$HOSTNAME_:$PHTTPS:127.0.0.1" -o /dev/null -w '%{http_code}' "$BASE/metrics")
[ "$code" = 404 ] || fail "/metrics must not be reachable through nginx, got $code"
# Bodies: a little over the app's 64 KiB → the app's own 413 page; far over → nginx refuses it.
head -c 70000 /dev/zero | tr '\0' a >"$WORK/big.txt"
visit "$BASE/login" --data-urlencode "username@$WORK/big.txt"
[ "$STATUS" = 413 ] && page_has '送信された内容が大きすぎます' || fail "a 70 KB form should get the app's 413 page, got $STATUS"
head -c 200000 /dev/zero | tr '\0' a >"$WORK/big.txt"
visit "$BASE/login" --data-urlencode "username@$WORK/big.txt"
[ "$STATUS" = 413 ] || fail "a 200 KB form should be refused by nginx with 413, got $STATUS"
rm -f "$JAR"
step "HTTP→HTTPS redirect, /metrics hidden, body limits: ok"

# ---- the reset journey through nginx, with a restart in the middle ------------------------------------------

visit "$BASE/password-reset"
expect_page 'ユーザー名と表示されている文字の入力' 'stage ①'
submit stage=identify action=next "username=$USERNAME" "captcha=$CAPTCHA"
expect_page 'パーソナルデータ検証 - メールアドレス' 'stage ② after the CAPTCHA'
step "stage ① passed"

# Background traffic through nginx for the whole restart: every answer must be a 200.
: >"$WORK/load.txt"
touch "$WORK/load.on"
(
  while [ -e "$WORK/load.on" ]; do
    curl -s --max-time 10 --cacert "$WORK/tls/cert.pem" --resolve "$HOSTNAME_:$PHTTPS:127.0.0.1" -o /dev/null -w '%{http_code}\n' "$BASE/csm" >>"$WORK/load.txt" || echo "curl-error" >>"$WORK/load.txt"
    sleep 0.05
  done
) &
LOAD_PID=$!
sleep 0.5

step "SIGTERM to the instance on port $P1, in the middle of the journey"
kill -TERM "${APP_PID[$P1]}"
# Stage ② is posted while that instance shuts down; the client also claims another address in X-Forwarded-For.
EXTRA_HEADER='X-Forwarded-For: 203.0.113.66'
submit stage=verify action=next "email=$EMAIL"
EXTRA_HEADER=''
expect_page 'パスワード変更用URLメール送信完了' 'stage ② during the restart'
status=0
wait "${APP_PID[$P1]}" || status=$?
[ "$status" = 0 ] || fail "the instance on port $P1 should exit with 0 after SIGTERM, got $status"
unset "APP_PID[$P1]"
grep -q 'shutting down' "$WORK/app-$P1.log" || fail "the instance did not log its graceful shutdown"
step "the instance stopped gracefully (exit 0); stage ② was answered meanwhile"

MAIL=''
for _ in $(seq 1 100); do
  MAIL=$(grep -lF "To: $EMAIL" "$WORK"/mail/*.txt 2>/dev/null | head -n 1 || true)
  [ -n "$MAIL" ] && break
  sleep 0.2
done
[ -n "$MAIL" ] || fail "no reset mail reached the SMTP sink within 20 s"
grep -qF 'Subject: 【医療機関等向け総合ポータルサイト】パスワード変更用URL' "$MAIL" || fail "the mail has an unexpected subject: $(sed -n 2p "$MAIL")"
LINK=$(grep -oE "https://$HOSTNAME_:$PHTTPS/passwordreset\.do\?sysparm_tiny=[A-Za-z0-9]{32}" "$MAIL" | head -n 1 || true)
[ -n "$LINK" ] || fail "the mail holds no link built from BASE_URL"
TOKEN=${LINK##*=}
step "reset mail received with the link"

restart_mark=$(wc -l <"$WORK/nginx/logs/iryo-portal.access.log")
start_instance "$P1"
wait_ready "$P1"
assert_plain_node "$P1"
step "the instance on port $P1 started again"
# nginx takes it back into rotation once its fail_timeout has passed: wait for a request it served.
served=''
for _ in $(seq 1 150); do
  if tail -n +"$((restart_mark + 1))" "$WORK/nginx/logs/iryo-portal.access.log" | grep -q " 200 .* upstream=127\.0\.0\.1:$P1 "; then served=1; break; fi
  sleep 0.1
done
[ -n "$served" ] || fail "nginx sent no request to the restarted instance within 15 s"
rm -f "$WORK/load.on"
wait "$LOAD_PID" 2>/dev/null || true
LOAD_PID=''
total=$(wc -l <"$WORK/load.txt")
bad=$(grep -cv '^200$' "$WORK/load.txt" || true)
[ "$total" -ge 10 ] || fail "too little background traffic ($total requests)"
[ "$bad" = 0 ] || fail "$bad of $total requests failed during the restart: $(grep -v '^200$' "$WORK/load.txt" | sort | uniq -c | tr '\n' ' ')"
step "$total background requests during the restart, all 200; the restarted instance serves again"

visit "$LINK"
expect_page 'パスワードのリセット' 'stage ③ (the link from the mail)'
case "$URL" in "$BASE/passwordreset.do?flow="*) ;; *) fail "the link should lead to a tokenless /passwordreset.do?flow= address, got $URL" ;; esac
submit "password=$NEW_PASSWORD" "confirm=$NEW_PASSWORD"
expect_page 'Password Resetに成功' 'the new password'
step "new password set"

rm -f "$JAR"
visit "$BASE/login"
submit "username=$USERNAME" "password=$OLD_PASSWORD"
expect_page 'ユーザー名またはパスワードが正しくありません' 'the old password must no longer work' 401
visit "$BASE/login"
submit "username=$USERNAME" "password=$NEW_PASSWORD"
expect_page "$DISPLAY_NAME さん" 'login with the new password'
case "$URL" in "$BASE/csm") ;; *) fail "login should end on /csm, got $URL" ;; esac
# Both instances honour the session (shared database and secret): a few more pages, round robin.
for _ in 1 2 3 4; do visit "$BASE/csm"; page_has 'ログアウト' || fail "the session was not honoured by every instance"; done
step "logged in with the new password; the old one is refused; the session works on both instances"

# ---- what the operator sees ----------------------------------------------------------------------------------

ip=$(pg_sql "$APP_DB_URL" "select ip from audit_log where event = 'password_reset.requested' order by seq desc limit 1")
[ "$ip" = "$CLIENT_IP" ] || fail "the audit trail should hold the client's address $CLIENT_IP (X-Forwarded-For from nginx), got '$ip'"
for f in "$WORK/nginx/logs/iryo-portal.access.log" "$WORK"/app-*.log; do
  if grep -qF "$TOKEN" "$f"; then fail "T5: the reset token was written to ${f#"$WORK"/}"; fi
done
grep -qF '/passwordreset.do?[REDACTED]' "$WORK/nginx/logs/iryo-portal.access.log" || fail "the access log should show the link request with its query redacted"
step "audit trail has the client's address ($CLIENT_IP, not the forged one); no token in nginx or app logs"

# ---- the audit trail's anchors: the command of deploy/systemd/iryo-portal-audit-head.service -----------------

# Its ExecStart with this machine's node and state directory (its NODE_ENV=production would refuse this run's
# CAPTCHA_TEST_ANSWER; the other settings are the instances').
read -r -a HEAD_CMD < <(sed -n 's/^ExecStart=//p' "$ROOT/deploy/systemd/iryo-portal-audit-head.service" | sed "s#/var/lib/iryo-portal#$WORK/data#g; s#^/usr/bin/node #$NODE #")
[ "${#HEAD_CMD[@]}" -gt 3 ] || fail "no ExecStart in deploy/systemd/iryo-portal-audit-head.service"
for _ in 1 2; do
  (cd "$ROOT" && env -i PATH="$PATH" HOME="$WORK" "${APP_ENV[@]}" "${HEAD_CMD[@]}") >>"$WORK/audit-head.out" 2>>"$WORK/cli.log" \
    || { tail -n 5 "$WORK/cli.log" >&2; fail "the audit-head unit's command failed"; }
done
[ "$(grep -c '^iryo-audit-head v1 chain=[0-9]* hash=[0-9a-f]* at=[^ ]* keyed-from=1 sig=[0-9a-f]*$' "$WORK/data/audit-heads.log")" = 2 ] \
  || fail "the audit-head command should have appended two signed heads, got: $(cat "$WORK/data/audit-heads.log" 2>/dev/null)"
cmp -s "$WORK/audit-head.out" "$WORK/data/audit-heads.log" || fail "the audit-head command printed other lines than it appended"
(cd "$ROOT" && env -i PATH="$PATH" HOME="$WORK" "${APP_ENV[@]}" "$NODE" dist/cli.js audit verify --heads "$WORK/data/audit-heads.log") >"$WORK/verify.out" 2>&1 \
  || { cat "$WORK/verify.out" >&2; fail "audit verify --heads failed against the exported heads"; }
grep -q '^Audit trail intact: .* All 2 anchored head(s) are in the trail unchanged' "$WORK/verify.out" \
  || fail "audit verify --heads: unexpected answer: $(cat "$WORK/verify.out")"
step "two signed audit heads exported by the timer's command; audit verify --heads finds both in the trail"

pass "reset journey through nginx (HTTPS) over two PostgreSQL instances with one restarted midway; $total/$total requests answered during the restart"
