#!/usr/bin/env bash
# The README's nginx example, for real: Debian's nginx with the README's `server` blocks (taken
# from README.md, so the test and the docs cannot drift apart) on free ports with a self-signed
# certificate, in front of `tginvite serve --behind-proxy`. Checks, through nginx over TLS:
#   - login works and its cookie carries Secure;
#   - the login limiter counts per client address (the one nginx saw; clients connect from
#     127.0.0.2 and 127.0.0.3), and a forged X-Forwarded-For changes nothing;
#   - a 20 MiB CSV upload reaches tginvite (not nginx's own 413) and is validated.
# Exits 77 (skipped) when nginx, openssl or curl is missing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${TGINVITE_BIN:-$repo/build/tginvite}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
for tool in "$nginx" openssl curl python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed (scripts/setup.sh installs nginx-light, openssl and curl)"
    exit 77
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tginvite-nginx-XXXXXX")
serve_pid=
cleanup() {
  local code=$?
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  if [[ $code -ne 0 ]]; then
    echo "--- tginvite log"; tail -n 30 "$work/serve.log" 2>/dev/null || true
    echo "--- nginx error log"; tail -n 30 "$work/error.log" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
app_port=$(free_port)
tls_port=$(free_port)
plain_port=$(free_port)

# The README's first ```nginx block, with this test's ports, certificate and upstream.
python3 - "$repo/README.md" "$work/site.conf" "$app_port" "$tls_port" "$plain_port" "$work" <<'PY'
import re, sys
readme, out, app, tls, plain, work = sys.argv[1:]
text = open(readme, encoding="utf-8").read()
blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
if not blocks:
    sys.exit("README.md has no ```nginx block")
conf = blocks[0]
conf = conf.replace("listen 443 ssl;", f"listen 127.0.0.1:{tls} ssl;")
conf = conf.replace("listen 80;", f"listen 127.0.0.1:{plain};")
conf = re.sub(r"\n\s*listen \[::\]:\d+( ssl)?;", "", conf)
conf = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {work}/cert.pem;", conf)
conf = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {work}/key.pem;", conf)
conf = conf.replace("proxy_pass http://127.0.0.1:8080;", f"proxy_pass http://127.0.0.1:{app};")
for needed in (f"127.0.0.1:{tls} ssl", f"127.0.0.1:{app}"):
    if needed not in conf:
        sys.exit(f"the README's nginx block changed shape: no {needed!r} after substitution")
open(out, "w").write(conf)
PY

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
}
EOF
[[ $(id -u) -eq 0 ]] && sed -i '1i user root;' "$work/nginx.conf"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=invites.example.com" \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1

export TGINVITE_DB="sqlite:$work/t.db"
TGINVITE_ADMIN_PASSWORD='correct horse battery staple' "$bin" init >/dev/null
"$bin" account add demo >/dev/null
printf 'Hello {first_name}: {link}\n' >"$work/t.html"
"$bin" campaign create demo --account demo --chat -1001234567890 --template-file "$work/t.html" \
  >/dev/null
"$bin" serve --behind-proxy --listen "127.0.0.1:$app_port" >"$work/serve.log" 2>&1 &
serve_pid=$!
"$nginx" -t -q -c "$work/nginx.conf" -p "$work" || fail "nginx refuses the README's configuration"
"$nginx" -c "$work/nginx.conf" -p "$work"

base="https://invites.example.com:$tls_port"
resolve=(--resolve "invites.example.com:$tls_port:127.0.0.1" --cacert "$work/cert.pem")
for _ in $(seq 1 100); do
  curl -sf "${resolve[@]}" "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "${resolve[@]}" "$base/healthz" >/dev/null || fail "no /healthz through nginx"

# Login through TLS: the cookie is Secure.
headers=$(curl -s "${resolve[@]}" -D - -o "$work/login.json" -c "$work/jar" \
  -H 'Content-Type: application/json' -d '{"password": "correct horse battery staple"}' \
  "$base/api/v1/login")
grep -qi '^HTTP/1.1 200' <<<"$headers" || fail "login: $headers"
grep -qi '^set-cookie: tginvite_session=.*; Secure' <<<"$headers" || fail "no Secure cookie: $headers"
csrf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$work/login.json")

# Plain HTTP only redirects.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$plain_port/")
[[ $code == 301 ]] || fail "plain HTTP answered $code, not 301"

# The login limiter, per client address: 127.0.0.2 fails 5 times (each with another forged
# X-Forwarded-For), then is refused; 127.0.0.3 is not.
attempt() {  # attempt SOURCE [FORGED]
  curl -s -o /dev/null -w '%{http_code}' "${resolve[@]}" --interface "$1" \
    ${2:+-H "X-Forwarded-For: $2"} -H 'Content-Type: application/json' \
    -d '{"password": "wrong"}' "$base/api/v1/login"
}
for i in 1 2 3 4 5; do
  code=$(attempt 127.0.0.2 "198.51.100.$i")
  [[ $code == 401 ]] || fail "failed login $i from 127.0.0.2 answered $code, not 401"
done
code=$(attempt 127.0.0.2 "203.0.113.77")
[[ $code == 429 ]] || fail "the 6th failed login from 127.0.0.2 answered $code, not 429"
code=$(attempt 127.0.0.3)
[[ $code == 401 ]] || fail "another client was locked out too ($code)"
grep -q 'failed login from 127.0.0.2' "$work/serve.log" || fail "the log does not name the client"
if grep -q 'failed login from 198.51.100' "$work/serve.log"; then
  fail "a forged X-Forwarded-For reached the log"
fi

# A 20 MiB CSV through nginx, with the session and its CSRF token.
python3 - "$work/big.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as out:
    out.write("telegram_user_id,first_name,last_name\n")
    n = 0
    while out.tell() < 20 * 1024 * 1024:
        n += 1
        out.write(f"{100000000 + n},First{n},Lastname-{n:08d}-padding-padding-padding\n")
PY
size=$(stat -c %s "$work/big.csv")
code=$(curl -s -o "$work/import.json" -w '%{http_code}' "${resolve[@]}" -b "$work/jar" \
  -H "X-CSRF-Token: $csrf" -H 'Content-Type: text/csv' --data-binary "@$work/big.csv" \
  "$base/api/v1/imports?campaign=demo")
[[ $code == 200 ]] || fail "the ${size}-byte upload answered $code: $(head -c 300 "$work/import.json")"
python3 - "$work/import.json" <<'PY' || fail "the import report is not what was uploaded"
import json, sys
report = json.load(open(sys.argv[1]))
assert report["valid"] > 200000 and report["rejected"] == 0, report
PY
echo "ok: login with Secure, limiter per client behind nginx, $size-byte upload through nginx"
