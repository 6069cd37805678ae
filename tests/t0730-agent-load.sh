#!/bin/sh
# The agent under load (issue 13): 100 leases with random lifetimes of 1
# to 5 s, issued by 4 clients at once.  Each is revoked at the provider
# exactly once, none later than 2 s after its end (the test provider logs
# when, on the real clock), each expired once in the audit trail.  The
# distribution of the delays is printed (informational); the 2 s bound
# is the check.
. "$JANEE_SRCDIR/tests/lib.sh"
. "$JANEE_SRCDIR/tests/lib/agent.sh"

setup_home || { not_ok "a janee home"; exit 1; }
N=100
CLIENTS=4
seed=$("$PYTHON3" -c 'import random; print(random.randrange(1 << 30))')
echo "# random lifetimes, seed $seed"
"$PYTHON3" - "$seed" "$N" "$CLIENTS" "$TMP" <<'EOF'
import random, sys
seed, n, clients, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random.seed(seed)
ttls = [random.randint(1, 5) for _ in range(n)]
for c in range(clients):
    with open("%s/ttls.%d" % (tmp, c + 1), "w") as f:
        f.write("".join("%d\n" % t for t in ttls[c::clients]))
EOF

i=1
while [ $i -le $CLIENTS ]; do
	(
		while read -r ttl; do
			"$JANEE" token t --ttl "$ttl" --json >>"$TMP/grants.$i" 2>>"$TMP/client.$i.err" ||
			    echo "token failed" >>"$TMP/client.$i.err"
		done <"$TMP/ttls.$i"
	) &
	i=$((i + 1))
done
wait
check "the $CLIENTS clients issued $N leases" [ "$(cat "$TMP"/grants.* | wc -l)" -eq $N ]
check "no client saw an error or a warning" sh -c "! grep -qv '^janee: lease lse_' '$TMP'/client.*.err"
# After the last end, 2 s and a little for the bound, the clients all gone.
last=$("$PYTHON3" -c '
import datetime, json, sys
ends = [json.loads(l)["expires_at"] for f in sys.argv[1:] for l in open(f)]
print(max(round(datetime.datetime.fromisoformat(e.replace("Z", "+00:00")).timestamp() * 1000) for e in ends))' "$TMP"/grants.*)
sleep_until_ms $((last + 2500))
check "no janee process runs now but the agent" [ -z "$(janee_others)" ]
check "no token is live at the provider" [ "$(live_tokens)" -eq 0 ]
"$JANEE" lease list --all --json >"$TMP/leases.json"
"$JANEE" audit list --event expired --json >"$TMP/expired.json"
cat "$TMP"/grants.* >"$TMP/grants"
"$PYTHON3" - "$TMP/grants" "$TMP/prov/calls.log" "$TMP/leases.json" \
    "$TMP/expired.json" "$JANEE_HOME/agent.log" >"$TMP/result" <<'EOF'
import collections, datetime, hashlib, json, re, sys

def ms(s):
    return round(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)

grants = [json.loads(l) for l in open(sys.argv[1])]
revokes = collections.defaultdict(list)
for line in open(sys.argv[2]):
    m = re.match(r"revoke ([0-9a-f]{64}) @(\d+)$", line.strip())
    if m:
        revokes[m.group(1)].append(int(m.group(2)))
leases = {l["id"]: l for l in json.load(open(sys.argv[3]))}
expired = collections.Counter(e["lease_id"] for e in json.load(open(sys.argv[4])))
by_agent = set(re.findall(r"lease (lse_[a-z2-7]+) \(t\) expired", open(sys.argv[5]).read()))

delays, once, ledger_ok, late, agent_d = [], 0, 0, [], []
for g in grants:
    h = hashlib.sha256(g["token"].encode()).hexdigest()
    r = revokes.get(h, [])
    once += len(r) == 1
    if r:
        d = r[0] - ms(g["expires_at"])
        delays.append(d)
        if g["lease_id"] in by_agent:
            agent_d.append(d)
        if not 0 <= d <= 2000:
            late.append((g["lease_id"], d))
    l = leases[g["lease_id"]]
    ledger_ok += l["state"] == "expired" and expired[g["lease_id"]] == 1 and \
        ms(l["ended_at"]) - ms(l["expires_at"]) <= 2000

delays.sort()
q = lambda p: delays[min(len(delays) - 1, int(p * len(delays)))]
print("# revocation delay at the provider after each lease's end, ms: "
      "n=%d min=%d p50=%d p90=%d p99=%d max=%d" %
      (len(delays), delays[0], q(.5), q(.9), q(.99), delays[-1]))
edges = [0, 25, 50, 100, 250, 500, 1000, 2000]
hist = ["%s: %d" % ("%d-%d" % (a, b), sum(a <= d < b for d in delays)) for a, b in zip(edges, edges[1:])]
hist.append(">=2000: %d" % sum(d >= 2000 for d in delays))
print("# histogram (ms): " + ", ".join(hist))
agent_d.sort()
print("# ended by the agent: %d of %d (the rest by a client's own sweep at its start)%s" %
      (len(agent_d), len(grants), "; the agent's, ms: min=%d p50=%d max=%d" %
       (agent_d[0], agent_d[len(agent_d) // 2], agent_d[-1]) if agent_d else ""))
n = len(grants)
res = [("each token was revoked at the provider exactly once (%d of %d)" % (once, n), once == n),
       ("none later than 2 s after its end%s" % (" (late: %r)" % late[:5] if late else ""),
        not late and len(delays) == n),
       ("each lease expired, once in the audit trail, within 2 s in the ledger (%d of %d)" %
        (ledger_ok, n), ledger_ok == n)]
for name, good in res:
    print(("ok - " if good else "not ok - ") + name)
EOF
cat "$TMP/result"
grep -q '^ok - ' "$TMP/result" || not_ok "the delays could be computed"
grep -q '^not ok - ' "$TMP/result" && _failures=$((_failures + 1))
agent_stop
done_testing
