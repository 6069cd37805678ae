/* Small helpers: clock, time formats, durations, randomness, encodings. */
#ifndef JANEE_UTIL_H
#define JANEE_UTIL_H

#include "common.h"

#include "text.h" /* janee_clean_text, janee_text_escape */

/* Wall-clock milliseconds since the epoch (UTC), plus the offset. */
int64_t janee_now_ms(void);

/*
 * Test hooks, compiled only into the test programs (tests/janee-test and
 * the unit tests), which build util.c, home.c, store.c and broker.c again
 * with JANEE_TEST_HOOKS (Makefile.am).  In janee the hooks do not exist:
 * the call sites below are empty macros, and no symbol or crash-point
 * name is in the binary (tests/t0081-release-binary.sh).
 */
#ifdef JANEE_TEST_HOOKS
/* Moves janee's clock, to test expiry (JANEE_TEST_CLOCK_OFFSET). */
extern int64_t janee_clock_offset_ms;

/*
 * Fault injection for the crash-safety tests: the test binary sets the
 * hook, which may end the process at a named point.
 */
extern void (*janee_crash_hook)(const char *point);
void janee_crash_point(const char *point);

/*
 * For the test binary's output capture (tests/capture.c): told the janee
 * home of each command (is_home 1) and each file janee wrote through
 * atomic_commit (is_home 0), so that the suite-wide leak sweep can
 * search them.
 */
extern void (*janee_file_hook)(const char *path, int is_home);
/*
 * Also for the leak sweep: told each value janee seals (kind: the
 * store's purpose) and each passphrase it derives a key from, so that
 * the sweep searches for every secret janee was given.
 */
extern void (*janee_secret_hook)(
    const char *kind, const void *value, size_t len);

#define JANEE_FILE_HOOK(path, is_home) \
	do { \
		if (janee_file_hook != NULL) \
			janee_file_hook(path, is_home); \
	} while (0)
#define JANEE_SECRET_HOOK(kind, value, len) \
	do { \
		if (janee_secret_hook != NULL) \
			janee_secret_hook(kind, value, len); \
	} while (0)
#else
#define janee_crash_point(point) ((void)0)
#define JANEE_FILE_HOOK(path, is_home) ((void)0)
#define JANEE_SECRET_HOOK(kind, value, len) ((void)0)
#endif

/* ISO 8601 UTC with milliseconds: "2026-11-28T10:01:39.123Z" (24 chars). */
#define JANEE_TIME_LEN 25
void janee_time_fmt(int64_t ms, char out[JANEE_TIME_LEN]);

/*
 * Parse a time given by a person: ISO 8601 ("2026-11-28",
 * "2026-11-28T10:00:00Z", with ".mmm" or a "+HH:MM" offset) or a
 * duration before now ("24h", "7d").
 */
int janee_time_parse(const char *s, int64_t now_ms, int64_t *out_ms) JANEE_WUR;

/* "90s", "5m", "1h", "2d", "1h30m" or bare seconds; > 0, <= 10 years. */
int janee_duration_parse(const char *s, int64_t *out_s) JANEE_WUR;
/* The shortest exact form: "90s" -> "1m30s", 3600 -> "1h". */
void janee_duration_fmt(int64_t s, char *out, size_t outsz);

/* Strict decimal integer in [min, max]. */
int janee_parse_int(
    const char *s, int64_t min, int64_t max, int64_t *out) JANEE_WUR;

/* Cryptographically secure random bytes (OpenSSL RAND_bytes). */
int janee_random(void *p, size_t n) JANEE_WUR;

/* A name janee gives to things (providers, Slack profiles): 1-64 of
 * lowercase letters and digits, '-' and '_' after the first. */
int janee_name_valid(const char *s);

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
int janee_env_name_valid(const char *s);

/* A lease id: "lse_" and 26 base32 characters of 128 random bits. */
#define JANEE_LEASE_ID_LEN 31
int janee_lease_id_new(char out[JANEE_LEASE_ID_LEN]) JANEE_WUR;
int janee_lease_id_valid(const char *s);

/*
 * base64url without padding (RFC 4648 section 5) of at most 3072 bytes
 * into out (outsz bytes with the NUL: 43 + 1 for 32 bytes).  0, or
 * JANEE_ERR_INTERNAL when it does not fit.
 */
int janee_b64url(const void *p, size_t n, char *out, size_t outsz) JANEE_WUR;
/*
 * The reverse, of the one canonical spelling only (no padding, no '+' or
 * '/', no stray bits): 0 and *outlen bytes in out (cap bytes), or -1.
 */
int janee_unb64url(
    const char *s, unsigned char *out, size_t cap, size_t *outlen) JANEE_WUR;

/* Lowercase hex; out must hold 2 * n + 1 bytes. */
void janee_hex(const unsigned char *p, size_t n, char *out);

/* Wipe then free; NULL is fine. */
void janee_freezero(void *p, size_t n);
void janee_wipe(void *p, size_t n);

/* Constant-time comparison of equal-length buffers; 0 when equal. */
int janee_ct_cmp(const void *a, const void *b, size_t n);

/* strdup that records ENOMEM through janee_err_set; NULL on failure. */
char *janee_strdup(const char *s);
/* *out = a copy of v, or NULL when v is NULL; JANEE_ERR_NOMEM. */
int janee_strdup_opt(const char *v, char **out) JANEE_WUR;
/* malloc'd printf; NULL on ENOMEM. */
char *
janee_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
