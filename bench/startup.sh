#!/bin/sh
# Start-up of janee commands that load config.json (issue 17: the
# PostgreSQL provider must not make every command slower): for each janee
# binary given, N runs each of `janee version`, `janee status` and
# `janee provider list` in a throwaway home whose config.json has an entry
# of every provider type the binary has (github-app, slack, oauth2 and,
# when the binary lists it in `janee provider types`, postgresql), the
# median and p90 wall time, and the shared objects the last command
# loaded (LD_DEBUG=files): libpq, libcurl and libjwt are opened on first
# use, so a listing should load none of them.
#
#   bench/startup.sh build/janee                  # N=200
#   N=100 bench/startup.sh /path/to/old/janee build/janee
#
# Figures go in docs/PERFORMANCE.md with the machine and the load.
set -eu

N=${N:-200}
[ $# -ge 1 ] || { echo "usage: bench/startup.sh JANEE..." >&2; exit 2; }
command -v python3 >/dev/null 2>&1 || { echo "startup.sh: python3 is needed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/janee-startup.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "machine: $(nproc) cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for janee in "$@"; do
	home="$work/home.$$.$(basename "$janee")"
	rm -rf "$home"
	HOME=$work JANEE_HOME=$home "$janee" init --key-backend keyfile >/dev/null 2>&1
	pg=
	if HOME=$work JANEE_HOME=$home "$janee" provider types 2>/dev/null | grep -q '^postgresql '; then
		pg=',
  "db": {"type": "postgresql", "dsn": "host=/tmp dbname=app user=admin",
    "password": "secret:db", "scopes": ["readonly"], "databases": ["app"]}'
	fi
	cat >"$home/config.json" <<JSON
{"providers": {
  "gh": {"type": "github-app", "client_id": "Iv1.0123456789abcdef",
    "private_key": "secret:gh-key", "installation_id": 1,
    "permissions": ["issues:read"], "repositories": ["api"]},
  "sl": {"type": "slack", "client_id": "1.2", "client_secret": "secret:sl",
    "profiles": {"p": {"scopes": ["chat:write"]}}},
  "o2": {"type": "oauth2", "issuer": "https://auth.example.com",
    "client_id": "janee", "scopes": ["read"]}$pg}}
JSON
	chmod 600 "$home/config.json"
	HOME=$work JANEE_HOME=$home "$janee" provider list >/dev/null 2>"$work/err" || {
		echo "startup.sh: $janee provider list failed:" >&2
		cat "$work/err" >&2
		exit 1
	}
	echo
	echo "$janee ($( [ -n "$pg" ] && echo "4 providers, postgresql among them" || echo "3 providers" ))"
	HOME=$work JANEE_HOME=$home python3 - "$janee" "$N" <<'PY'
import os, subprocess, sys, time
janee, n = sys.argv[1], int(sys.argv[2])
for cmd in (["version"], ["status"], ["provider", "list"]):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([janee] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        ts.append((time.perf_counter() - t) * 1000)
    ts.sort()
    print("  %-14s median %6.2f ms   p90 %6.2f ms   (%d runs)" %
          (" ".join(cmd), ts[len(ts) // 2], ts[int(len(ts) * 0.9)], n))
env = dict(os.environ, LD_DEBUG="files")
r = subprocess.run([janee, "provider", "list"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, text=True, env=env)
libs = sorted({l.split("file=")[1].split()[0] for l in r.stderr.splitlines()
               if "file=" in l and "[0];  needed by" not in l and "generating link map" in l} |
              {l.split("file=")[1].split()[0] for l in r.stderr.splitlines()
               if "file=" in l and "needed by" in l})
print("  provider list loads %d shared objects; libpq %s, libcurl %s, libjwt %s" % (
    len(libs), *["yes" if any(x in l for l in libs) else "no"
                 for x in ("libpq", "libcurl", "libjwt")]))
PY
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
