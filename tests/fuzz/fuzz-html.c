/*
 * libFuzzer: agent text into the approval page's HTML (html_put, the
 * page's one escaper).  For any bytes, as agent text and as janee's own:
 * the output is valid UTF-8; once janee's own escape spans are taken
 * out, no '<', '>', '"' or '\'' is left, every '&' starts one of the
 * five entities, and (agent text) no control, C1, bidi or separator
 * character is left.
 */
#include "common.h"

#include "approval-page.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char span[] = "<span class=\"esc\">";

/* The code point of the strict UTF-8 sequence at p, its length in *len. */
static long
decode(const unsigned char *p, size_t n, size_t *len)
{
	long c;
	size_t k;

	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0)
		*len = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		*len = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		*len = 4, c = p[0] & 0x07;
	else
		return -1;
	if (*len > n)
		return -1;
	for (k = 1; k < *len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[k] & 0x3f);
	}
	if ((*len == 2 && c < 0x80) || (*len == 3 && c < 0x800) ||
	    (*len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return -1;
	return c;
}

static void
check(const char *out, int agent)
{
	const unsigned char *p = (const unsigned char *)out;
	size_t i = 0, n = strlen(out), len;
	long c;

	while (i < n) {
		if (strncmp(out + i, span, sizeof(span) - 1) == 0) {
			/* janee's escape: "\x1b" or "\u202e", then </span> */
			const char *end = strstr(out + i, "</span>");

			if (end == NULL || end - (out + i) > 40)
				abort();
			i = (size_t)(end - out) + 7;
			continue;
		}
		if ((c = decode(p + i, n - i, &len)) < 0)
			abort(); /* not UTF-8 */
		if (c == '<' || c == '>' || c == '"' || c == '\'')
			abort();
		if (c == '&' && strncmp(out + i, "&amp;", 5) != 0 &&
		    strncmp(out + i, "&lt;", 4) != 0 &&
		    strncmp(out + i, "&gt;", 4) != 0 &&
		    strncmp(out + i, "&quot;", 6) != 0 &&
		    strncmp(out + i, "&#39;", 5) != 0)
			abort();
		if (c < 0x20 || c == 0x7f)
			abort();
		if (agent &&
		    ((c >= 0x80 && c <= 0x9f) || c == 0x61c || c == 0x200e ||
			c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
			(c >= 0x2066 && c <= 0x2069) || c == 0x2028 ||
			c == 0x2029))
			abort();
		i += len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct buf b;
	int agent;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (agent = 0; agent <= 1; agent++) {
		buf_init(&b, 1 << 24);
		if (html_put(&b, s, agent) != 0)
			abort();
		check(b.p ? b.p : "", agent);
		buf_free(&b);
	}
	free(s);
	return 0;
}
