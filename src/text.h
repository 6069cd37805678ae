/*
 * Text from elsewhere (an agent's reason or client name, a server's
 * message) on its way to a person: one place decides which characters
 * must not reach a terminal or a dialog as they are.
 *
 * Unsafe: C0 controls (a newline forges a line, ESC starts a terminal
 * sequence), DEL, C1 controls U+0080-U+009F (CSI, OSC... in UTF-8 for
 * terminals that take them), the bidirectional controls U+061C, U+200E,
 * U+200F, U+202A-U+202E and U+2066-U+2069 (they reorder what is shown:
 * "Trojan Source", CVE-2021-42574), the line and paragraph separators
 * U+2028 and U+2029, and every byte that starts no valid UTF-8 sequence.
 */
#ifndef JANEE_TEXT_H
#define JANEE_TEXT_H

#include "common.h"

/*
 * The length of the strict UTF-8 sequence at p, n bytes available (no
 * overlongs, no surrogates, nothing past U+10FFFF), or 0 when there is
 * none; *cp gets the code point (cp may be NULL).
 */
size_t janee_utf8_seq(const unsigned char *p, size_t n, uint32_t *cp);

/* Room for the longest escape janee_text_char writes ("\u202e"). */
#define JANEE_TEXT_ESC 8

/*
 * The character at s (NUL-terminated, not at its end): *len gets its
 * length in bytes (1 for a byte that starts no valid sequence).  Returns
 * 1 when it is unsafe, with its escape in esc: "\n", "\r", "\t",
 * "\x1b" (other C0, DEL, an invalid byte), "\u202e" (C1, bidi,
 * separators); 0 when it may be shown as it is.
 */
int janee_text_char(const char *s, size_t *len, char esc[JANEE_TEXT_ESC]);

/*
 * s made safe to show a person: each unsafe character replaced by its
 * escape.  malloc'd; NULL on ENOMEM (janee_err_set).  NULL in: "".
 */
char *janee_text_escape(const char *s);

/*
 * Text a server sent, for a message: at most outsz - 1 bytes, whole
 * characters only, unsafe ones dropped (NULL in: empty out).
 */
void janee_clean_text(const char *in, char *out, size_t outsz);

#endif
