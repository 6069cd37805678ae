/* janee unlock, janee lock, and the agent's lines in janee status. */
#include "common.h"

#include "agent.h"
#include "audit.h"
#include "cli.h"
#include "store.h"
#include "util.h"

static int
backend_of(struct cli *c, char **backend)
{
	char *params = NULL;
	int rc;

	rc = store_describe(c->core.lg, backend, &params);
	free(params);
	return rc;
}

static void
audit_quietly(struct cli *c, const char *event, const char *detail)
{
	struct audit_event ev = { .event = event,
		.actor = "user",
		.client = "cli",
		.outcome = "ok",
		.detail = detail };

	int rc;

	/* The act is done; a ledger that cannot record it is said, not fatal. */
	if ((rc = audit_record(c->core.lg, &ev)) != 0) {
		fprintf(stderr, "janee: warning: %s\n", janee_err_msg(rc));
		janee_err_clear();
	}
}

int
cmd_unlock(struct cli *c)
{
	const char *forarg = cli_get(c, "for");
	unsigned char dek[STORE_KEY_LEN], bind[32];
	char *backend = NULL, until[JANEE_TIME_LEN], d[32], *detail = NULL;
	struct agent_status st;
	struct store *s = NULL;
	int64_t secs = AGENT_UNLOCK_DEFAULT_S, deadline;
	int rc;

	if (forarg != NULL && janee_duration_parse(forarg, &secs) != 0) {
		janee_err_clear();
		return cli_usage_error(c,
		    "--for takes a duration such as 30m, 8h or 7d, not '%s'",
		    forarg);
	}
	if (secs > AGENT_UNLOCK_MAX_S)
		return cli_usage_error(c,
		    "--for %s is longer than an unlock may last (7d)", forarg);
	if ((rc = backend_of(c, &backend)) != 0)
		return rc;
	if (strcmp(backend, "passphrase") != 0) {
		printf("the key of '%s' comes from the %s backend and needs no "
		       "unlock: the background agent reads it when it revokes "
		       "a lease\n",
		    c->core.home.dir, backend);
		free(backend);
		return 0;
	}
	free(backend);
	/* The passphrase itself, checked: never the agent's copy. */
	c->core.ks.no_agent = 1;
	if ((rc = store_unlock(c->core.lg, &c->core.home, &c->core.ks, &s)) !=
		0 ||
	    (rc = store_binding(c->core.lg, bind)) != 0)
		goto out;
	store_key(s, dek);
	deadline = janee_now_ms() + secs * 1000;
	rc = agent_unlock(c->core.home.dir, dek, bind, deadline, &st);
	janee_wipe(dek, sizeof(dek));
	if (rc != 0)
		goto out;
	janee_time_fmt(st.deadline_ms, until);
	janee_duration_fmt(secs, d, sizeof(d));
	printf("the background agent (pid %lld) holds the store's key until "
	       "%s (%s); janee lock wipes it sooner\n",
	    (long long)st.pid, until, d);
	if ((detail = janee_asprintf(
		 "until %s, agent pid %lld", until, (long long)st.pid)) != NULL)
		audit_quietly(c, "unlock", detail);
out:
	free(detail);
	store_free(s);
	return rc;
}

int
cmd_lock(struct cli *c)
{
	struct agent_status st;
	int rc, held;

	if ((rc = agent_lock(c->core.home.dir, &held, &st)) != 0)
		return rc;
	if (!st.running && !held)
		printf("no background agent runs for '%s'; no key is held\n",
		    c->core.home.dir);
	else if (held)
		printf("the background agent (pid %lld) wiped the store's "
		       "key\n",
		    (long long)st.pid);
	else
		printf("the background agent (pid %lld) held no key\n",
		    (long long)st.pid);
	if (held)
		audit_quietly(c, "lock", NULL);
	return 0;
}

/* The agent's part of `janee status`, as text or into the JSON object. */
int
cli_agent_status(struct cli *c, cJSON *json)
{
	struct agent_status st;
	char *backend = NULL, t[JANEE_TIME_LEN], t2[JANEE_TIME_LEN];
	int rc, passphrase;
	cJSON *o;

	if ((rc = backend_of(c, &backend)) != 0)
		return rc;
	passphrase = strcmp(backend, "passphrase") == 0;
	if ((rc = agent_status(c->core.home.dir, &st)) != 0) {
		/* Another version, say: shown, not fatal for status. */
		fprintf(stderr, "janee: warning: %s\n", janee_err_msg(rc));
		janee_err_clear();
		memset(&st, 0, sizeof(st));
	}
	if (json != NULL) {
		o = cJSON_AddObjectToObject(json, "agent");
		cJSON_AddBoolToObject(o, "running", st.running);
		if (st.running) {
			cJSON_AddNumberToObject(o, "pid", (double)st.pid);
			janee_time_fmt(st.started_ms, t);
			cJSON_AddStringToObject(o, "started_at", t);
			cJSON_AddNumberToObject(
			    o, "active_leases", (double)st.active);
			cJSON_AddNumberToObject(
			    o, "leases_ended", (double)st.revoked);
			if (st.next_due_ms != INT64_MAX) {
				janee_time_fmt(st.next_due_ms, t);
				cJSON_AddStringToObject(o, "next_end", t);
			}
		}
		cJSON_AddBoolToObject(
		    o, "key_held", (st.flags & AGENT_HOLDS_KEY) != 0);
		if (st.flags & AGENT_HOLDS_KEY) {
			janee_time_fmt(st.deadline_ms, t);
			cJSON_AddStringToObject(o, "key_until", t);
		}
		cJSON_AddBoolToObject(o, "key_needed", passphrase);
		free(backend);
		return 0;
	}
	if (!st.running)
		printf("agent:        not running (a janee command that issues "
		       "a lease starts it)\n");
	else {
		janee_time_fmt(st.started_ms, t);
		printf("agent:        running, pid %lld since %s; %lld active "
		       "lease(s)",
		    (long long)st.pid, t, (long long)st.active);
		if (st.next_due_ms != INT64_MAX) {
			janee_time_fmt(st.next_due_ms, t2);
			printf(", the next ends %s", t2);
		}
		printf("\n");
	}
	if (st.flags & AGENT_HOLDS_KEY) {
		janee_time_fmt(st.deadline_ms, t);
		printf(
		    "agent key:    held until %s (janee lock wipes it)\n", t);
	} else if (passphrase)
		printf("agent key:    none: leases of this passphrase home are "
		       "not revoked at their end unless janee runs then; run: "
		       "janee unlock, or move the home to the keyring: janee "
		       "secret rekey --key-backend keyring\n");
	else
		printf("agent key:    not needed (%s backend, read when "
		       "revoking)\n",
		    backend);
	free(backend);
	return 0;
}
