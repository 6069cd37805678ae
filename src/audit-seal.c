/*
 * Keyed checkpoints of the audit chain.
 *
 * The chain's link is a plain SHA-256, so that commands that run with
 * the store locked (`janee deny`, the sweep of a lease with nothing to
 * revoke, a refused request) can still append without asking for a
 * passphrase.  What makes a rewrite need the key is the checkpoint: an
 * HMAC-SHA256, under a key derived from the store's data key, of the
 * head "seq:hash".  Every append by a process that has the key moves it
 * to the new head, in the same transaction; `janee audit verify` checks
 * it and says how many rows came after it (those are only hash-chained
 * until the next process with the key appends).
 *
 * A checkpoint is moved only when the one there still holds (it
 * authenticates, its row is in the chain with its hash): otherwise the
 * evidence stays for verify.  The first one is made on an empty chain
 * (janee init) or on a ledger that migration 7 noted as older than
 * checkpoints; never silently on a chain that lost its checkpoint.
 */
#include "common.h"

#include <openssl/evp.h>

#include "audit-int.h"
#include "store.h"
#include "util.h"

#define CKPT_KEY "audit.checkpoint"
#define NOTE_KEY "audit.unkeyed"
#define CKPT_LABEL "audit-checkpoint"

int
audit_key_use(struct ledger *lg, struct store *s)
{
	int rc;

	if ((rc = store_derive_key(s, CKPT_LABEL, lg->audit_key)) != 0)
		return rc;
	lg->audit_keyed = 1;
	return 0;
}

/* HMAC-SHA256 of "janee-audit-checkpoint-v1:FIRST:SEQ:HASH", as hex. */
static int
ckpt_mac(struct ledger *lg, int64_t first, int64_t seq, const char *hash,
    char out[AUDIT_HEX_LEN + 1])
{
	unsigned char mac[AUDIT_HASH_LEN];
	char msg[160];
	size_t maclen = 0;
	int n;

	n = snprintf(msg, sizeof(msg), "janee-audit-checkpoint-v1:%lld:%lld:%s",
	    (long long)first, (long long)seq, hash);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return janee_err_set(JANEE_ERR_INTERNAL, "checkpoint too long");
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, lg->audit_key,
		sizeof(lg->audit_key), (const unsigned char *)msg, (size_t)n,
		mac, sizeof(mac), &maclen) == NULL ||
	    maclen != sizeof(mac))
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "HMAC-SHA256 failed in OpenSSL");
	janee_hex(mac, sizeof(mac), out);
	return 0;
}

/* A decimal number of 1 to 18 digits, no sign, up to `end`. */
static int
parse_num(const char **pp, int end, int64_t *out)
{
	const char *p = *pp;
	int64_t v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < 18) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || *p != end)
		return -1;
	*pp = p + (end != '\0');
	*out = v;
	return 0;
}

/* AUDIT_HEX_LEN lowercase hex digits, then `end`. */
static int
parse_hex(const char **pp, int end, char out[AUDIT_HEX_LEN + 1])
{
	unsigned char tmp[AUDIT_HASH_LEN];

	if (strlen(*pp) < AUDIT_HEX_LEN || (*pp)[AUDIT_HEX_LEN] != end)
		return -1;
	memcpy(out, *pp, AUDIT_HEX_LEN);
	out[AUDIT_HEX_LEN] = '\0';
	if (audit_unhex(out, tmp) != 0)
		return -1;
	*pp += AUDIT_HEX_LEN + (end != '\0');
	return 0;
}

int
audit_ckpt_read(struct ledger *lg, struct audit_ckpt *c, int *found)
{
	const char *p;
	char *v = NULL;
	size_t len;
	int rc;

	memset(c, 0, sizeof(*c));
	*found = 0;
	rc = ledger_meta_get(lg, CKPT_KEY, (void **)&v, &len);
	if (rc == JANEE_ERR_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	*found = 1;
	p = v;
	if (strlen(v) != len || parse_num(&p, ':', &c->first) != 0 ||
	    parse_num(&p, ':', &c->seq) != 0 ||
	    parse_hex(&p, ':', c->hash) != 0 ||
	    parse_hex(&p, '\0', c->mac) != 0 || c->first < 1 ||
	    c->first > c->seq)
		rc = janee_err_set(JANEE_ERR_SCHEMA,
		    "ledger '%s': the audit chain's keyed checkpoint is "
		    "damaged",
		    lg->path);
	free(v);
	return rc;
}

int
audit_ckpt_authentic(struct ledger *lg, const struct audit_ckpt *c)
{
	char mac[AUDIT_HEX_LEN + 1];

	if (!lg->audit_keyed || ckpt_mac(lg, c->first, c->seq, c->hash, mac))
		return 0;
	return janee_ct_cmp(mac, c->mac, AUDIT_HEX_LEN) == 0;
}

int
audit_unkeyed_note(struct ledger *lg, int *present)
{
	void *v = NULL;
	size_t len;
	int rc;

	rc = ledger_meta_get(lg, NOTE_KEY, &v, &len);
	free(v);
	*present = rc == 0;
	return rc == JANEE_ERR_NOT_FOUND ? 0 : rc;
}

/* Whether row seq is in the chain with this stored hash. */
static int
row_has_hash(struct ledger *lg, int64_t seq, const char *hash, int *same)
{
	sqlite3_stmt *st;
	const char *h;
	int rc = 0;

	*same = 0;
	if ((rc = ledger_prepare(
		 lg, "SELECT hash FROM audit WHERE seq = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, seq);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		h = (const char *)sqlite3_column_text(st, 0);
		*same = h != NULL && strcmp(h, hash) == 0;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = ledger_fail(lg, "cannot read the audit chain");
	}
	sqlite3_finalize(st);
	return rc;
}

int
audit_seal_begin(
    struct ledger *lg, int64_t head_seq, int *seal, int64_t *first, int *note)
{
	struct audit_ckpt c;
	const char *why;
	int found, same, rc;

	*seal = 0;
	*first = 0;
	*note = 0;
	if (!lg->audit_keyed)
		return 0;
	if ((rc = audit_unkeyed_note(lg, note)) != 0)
		return rc;
	rc = audit_ckpt_read(lg, &c, &found);
	if (rc == JANEE_ERR_SCHEMA) {
		janee_err_clear();
		why = "is damaged";
	} else if (rc != 0)
		return rc;
	else if (!found) {
		if (head_seq == 0 || *note) {
			*seal = 1;
			return 0;
		}
		why = "is missing";
	} else if (!audit_ckpt_authentic(lg, &c))
		why = "does not authenticate under this store's key";
	else if (c.seq > head_seq)
		why = "names a row past the end of the chain";
	else if ((rc = row_has_hash(lg, c.seq, c.hash, &same)) != 0)
		return rc;
	else if (!same)
		why = "does not match the row it names";
	else {
		*seal = 1;
		*first = c.first;
		return 0;
	}
	if (!lg->audit_warned)
		fprintf(stderr,
		    "janee: warning: the audit chain's keyed checkpoint %s; "
		    "janee leaves it as it is: run janee audit verify\n",
		    why);
	lg->audit_warned = 1;
	return 0;
}

int
audit_seal_write(struct ledger *lg, int64_t first, int64_t seq,
    const unsigned char hash[AUDIT_HASH_LEN], int drop_note)
{
	char hex[AUDIT_HEX_LEN + 1], mac[AUDIT_HEX_LEN + 1], v[200];
	sqlite3_stmt *st;
	int rc;

	janee_hex(hash, AUDIT_HASH_LEN, hex);
	if ((rc = ckpt_mac(lg, first, seq, hex, mac)) != 0)
		return rc;
	snprintf(v, sizeof(v), "%lld:%lld:%s:%s", (long long)first,
	    (long long)seq, hex, mac);
	if ((rc = ledger_meta_set(lg, CKPT_KEY, v, strlen(v))) != 0 ||
	    !drop_note)
		return rc;
	if ((rc = ledger_prepare(
		 lg, "DELETE FROM meta WHERE key = '" NOTE_KEY "'", &st)) != 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = ledger_fail(lg, "cannot write metadata");
	sqlite3_finalize(st);
	return rc;
}
