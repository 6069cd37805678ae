/* Text from elsewhere, made safe to show a person (see text.h). */
#include "common.h"

#include "text.h"

size_t
janee_utf8_seq(const unsigned char *p, size_t n, uint32_t *cpp)
{
	size_t k, len;
	uint32_t cp;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		len = 1;
		cp = p[0];
		goto done;
	}
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	/* RFC 3629 section 3: no overlongs, no surrogates, <= U+10FFFF. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
done:
	if (cpp != NULL)
		*cpp = cp;
	return len;
}

/* The code points above U+007F that text.h calls unsafe. */
static int
unsafe_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e ||
	    cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

int
janee_text_char(const char *s, size_t *len, char esc[JANEE_TEXT_ESC])
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	/* A sequence never holds a NUL: strnlen bounds it to the string. */
	if ((*len = janee_utf8_seq(p, strnlen(s, 4), &cp)) == 0) {
		*len = 1;
		snprintf(esc, JANEE_TEXT_ESC, "\\x%02x", p[0]);
		return 1;
	}
	if (cp == '\n' || cp == '\r' || cp == '\t') {
		snprintf(esc, JANEE_TEXT_ESC, "\\%c",
		    cp == '\n' ? 'n' : (cp == '\r' ? 'r' : 't'));
		return 1;
	}
	if (cp < 0x20 || cp == 0x7f) {
		snprintf(esc, JANEE_TEXT_ESC, "\\x%02x", (unsigned)cp);
		return 1;
	}
	if (unsafe_cp(cp)) {
		/* Every unsafe code point is below U+10000: four digits. */
		snprintf(
		    esc, JANEE_TEXT_ESC, "\\u%04x", (unsigned)(cp & 0xffff));
		return 1;
	}
	return 0;
}

char *
janee_text_escape(const char *s)
{
	char esc[JANEE_TEXT_ESC], *out, *o;
	size_t len;

	if (s == NULL)
		s = "";
	/* An escape is at most 6 bytes for a character of at least 1. */
	if ((out = malloc(6 * strlen(s) + 1)) == NULL) {
		janee_err_set(JANEE_ERR_NOMEM, "out of memory");
		return NULL;
	}
	for (o = out; *s != '\0'; s += len)
		if (janee_text_char(s, &len, esc)) {
			memcpy(o, esc, strlen(esc));
			o += strlen(esc);
		} else {
			memcpy(o, s, len);
			o += len;
		}
	*o = '\0';
	return out;
}

void
janee_clean_text(const char *in, char *out, size_t outsz)
{
	char esc[JANEE_TEXT_ESC];
	size_t j = 0, len;

	for (; in != NULL && *in != '\0'; in += len) {
		if (janee_text_char(in, &len, esc))
			continue;
		if (j + len + 1 > outsz)
			break;
		memcpy(out + j, in, len);
		j += len;
	}
	if (outsz > 0)
		out[j] = '\0';
}
