/* Small helpers: clock, time formats, durations, randomness, encodings. */
#include "common.h"

#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "util.h"

#ifdef JANEE_TEST_HOOKS
int64_t janee_clock_offset_ms;
void (*janee_crash_hook)(const char *point);
void (*janee_file_hook)(const char *path, int is_home);
void (*janee_secret_hook)(const char *kind, const void *value, size_t len);

void
janee_crash_point(const char *point)
{
	if (janee_crash_hook != NULL)
		janee_crash_hook(point);
}
#endif

int64_t
janee_now_ms(void)
{
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#ifdef JANEE_TEST_HOOKS
	ms += janee_clock_offset_ms;
#endif
	return ms;
}

void
janee_time_fmt(int64_t ms, char out[JANEE_TIME_LEN])
{
	struct tm tm;
	time_t t;
	int64_t frac;

	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		ms -= 1000;
	}
	t = (time_t)(ms / 1000);
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, JANEE_TIME_LEN, "invalid-time");
		return;
	}
	/* Years past 9999 do not fit the fixed width: clamp, never cut. */
	if (tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(out, JANEE_TIME_LEN, "invalid-time");
		return;
	}
	strftime(out, JANEE_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + 19, JANEE_TIME_LEN - 19, ".%03dZ", (int)frac);
}

/* Read exactly n digits at *pp; -1 when they are not there. */
static int
digits(const char **pp, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (**pp < '0' || **pp > '9')
			return -1;
		v = v * 10 + (**pp - '0');
		(*pp)++;
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int
iso_parse(const char *s, int64_t *out_ms)
{
	struct tm tm;
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0, sign, oh, om;

	if ((y = digits(&p, 4)) < 0 || *p++ != '-' ||
	    (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
		    (mi = digits(&p, 2)) < 0 || mi > 59)
			return -1;
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0 || sec > 60)
				return -1;
			if (*p == '.') {
				p++;
				if ((ms = digits(&p, 3)) < 0)
					return -1;
				while (*p >= '0' && *p <= '9')
					p++;
			}
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if ((oh = digits(&p, 2)) < 0 || oh > 23)
				return -1;
			if (*p == ':')
				p++;
			if ((om = digits(&p, 2)) < 0 || om > 59)
				return -1;
			off = sign * (oh * 60 + om) * 60;
		}
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out_ms = ((int64_t)timegm(&tm) - off) * 1000 + ms;
	return 0;
}

int
janee_time_parse(const char *s, int64_t now_ms, int64_t *out_ms)
{
	int64_t d;

	if (s == NULL || *s == '\0')
		return janee_err_set(JANEE_ERR_USAGE, "empty time");
	if (iso_parse(s, out_ms) == 0)
		return 0;
	janee_err_clear();
	if (janee_duration_parse(s, &d) == 0) {
		*out_ms = now_ms - d * 1000;
		return 0;
	}
	janee_err_clear();
	return janee_err_set(JANEE_ERR_USAGE,
	    "invalid time '%s'; use ISO 8601 such as 2026-11-28T10:00:00Z or a duration before now such as 24h",
	    s);
}

#define MAX_DURATION_S (10LL * 366 * 24 * 3600)

int
janee_duration_parse(const char *s, int64_t *out_s)
{
	const char *p = s;
	int64_t total = 0, v;
	int unit, any = 0;

	if (s == NULL || *s == '\0')
		goto bad;
	if (strspn(s, "0123456789") == strlen(s))
		return janee_parse_int(s, 1, MAX_DURATION_S, out_s) == 0
		    ? 0
		    : janee_err_set(
			  JANEE_ERR_USAGE, "invalid duration '%s'", s);
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			goto bad;
		v = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (*p++ - '0');
			if (v > MAX_DURATION_S)
				goto bad;
		}
		switch (*p++) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			goto bad;
		}
		total += v * unit;
		if (total > MAX_DURATION_S)
			goto bad;
		any = 1;
	}
	if (!any || total <= 0)
		goto bad;
	*out_s = total;
	return 0;
bad:
	return janee_err_set(JANEE_ERR_USAGE,
	    "invalid duration '%s'; use a number with a unit, such as 90s, 5m, 1h or 2d",
	    s ? s : "");
}

void
janee_duration_fmt(int64_t s, char *out, size_t outsz)
{
	static const struct {
		int64_t n;
		char u;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i, len = 0;
	int w;

	if (s <= 0) {
		snprintf(out, outsz, "0s");
		return;
	}
	out[0] = '\0';
	for (i = 0; i < nitems(units) && len < outsz; i++) {
		if (s >= units[i].n) {
			w = snprintf(out + len, outsz - len, "%lld%c",
			    (long long)(s / units[i].n), units[i].u);
			if (w < 0)
				return;
			len += (size_t)w;
			s %= units[i].n;
		}
	}
}

int
janee_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return JANEE_ERR_INVALID;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return JANEE_ERR_INVALID;
	*out = v;
	return 0;
}

int
janee_random(void *p, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return janee_err_set(
		    JANEE_ERR_CRYPTO, "cannot get random bytes from OpenSSL");
	return 0;
}

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

int
janee_lease_id_new(char out[JANEE_LEASE_ID_LEN])
{
	unsigned char r[17];
	size_t i, bit;
	int rc;

	/* 26 base32 digits carry 130 bits; the 17th byte fills the tail. */
	if ((rc = janee_random(r, sizeof(r))) != 0)
		return rc;
	memcpy(out, "lse_", 4);
	for (i = 0, bit = 0; i < 26; i++, bit += 5) {
		unsigned v = ((unsigned)r[bit / 8] << 8 | r[bit / 8 + 1]) >>
		    (11 - bit % 8);
		out[4 + i] = b32[v & 31];
	}
	out[30] = '\0';
	janee_wipe(r, sizeof(r));
	return 0;
}

int
janee_lease_id_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 30 || strncmp(s, "lse_", 4) != 0)
		return 0;
	for (i = 4; i < 30; i++)
		if (strchr(b32, s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

int
janee_name_valid(const char *s)
{
	size_t i;

	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') ||
			(i > 0 && (s[i] == '-' || s[i] == '_'))))
			return 0;
	return 1;
}

int
janee_env_name_valid(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
		s[0] == '_'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
janee_b64url(const void *p, size_t n, char *out, size_t outsz)
{
	char tmp[4 * 1024 + 1];
	size_t i, j;
	int len;

	/* EVP_EncodeBlock pads with '=' and adds a NUL: encode aside. */
	if (n > 3 * 1024)
		return janee_err_set(JANEE_ERR_INTERNAL, "base64url overflow");
	len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
	for (i = j = 0; i < (size_t)len && tmp[i] != '='; i++) {
		if (j + 1 >= outsz) {
			janee_wipe(tmp, sizeof(tmp));
			return janee_err_set(
			    JANEE_ERR_INTERNAL, "base64url overflow");
		}
		out[j++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
	}
	out[j] = '\0';
	janee_wipe(tmp, sizeof(tmp));
	return 0;
}

int
janee_unb64url(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
	char tmp[4 * 1024 + 4], again[4 * 1024 + 1];
	size_t n = strlen(s), i;
	int len, rc = -1;

	if (n + 4 >= sizeof(tmp) || (n + 3) / 4 * 3 > cap)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '+' || s[i] == '/' || s[i] == '=')
			return -1;
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	while (i % 4 != 0)
		tmp[i++] = '=';
	tmp[i] = '\0';
	if ((len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)i)) < 0)
		goto out;
	/* DecodeBlock counts padding as zero bytes: take them off. */
	*outlen = (size_t)len - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
	/*
	 * Only the one canonical spelling: a last character whose unused
	 * bits are set decodes to the same bytes, and would make one value
	 * many strings.
	 */
	if (janee_b64url(out, *outlen, again, sizeof(again)) != 0) {
		janee_err_clear();
		goto out;
	}
	rc = strcmp(again, s) == 0 ? 0 : -1;
out:
	janee_wipe(tmp, sizeof(tmp));
	janee_wipe(again, sizeof(again));
	return rc;
}

void
janee_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
janee_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

void
janee_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	janee_wipe(p, n);
	free(p);
}

int
janee_ct_cmp(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) != 0;
}

char *
janee_strdup(const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
	return d;
}

int
janee_strdup_opt(const char *v, char **out)
{
	*out = NULL;
	if (v != NULL && (*out = janee_strdup(v)) == NULL)
		return JANEE_ERR_NOMEM;
	return 0;
}

char *
janee_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return s;
}
