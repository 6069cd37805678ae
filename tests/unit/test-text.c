/*
 * Unit tests: text from agents and servers made safe to show a person
 * (src/text.c): which characters are escaped and how, and that server
 * text in messages drops the same ones.
 */
#include "common.h"

#include "text.h"

#include "t.h"

#define ESC_IS(in, want) \
	do { \
		char *t_e = janee_text_escape(in); \
		T_EQ_STR(t_e, want); \
		free(t_e); \
	} while (0)

/* Printable ASCII and valid UTF-8 text of other scripts pass as they are. */
static void
plain_text_passes_unchanged(void)
{
	ESC_IS("", "");
	ESC_IS(NULL, "");
	ESC_IS("deploy the docs, then stop", "deploy the docs, then stop");
	ESC_IS("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91",
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
	/* Hebrew and Arabic letters are text; only the controls are not. */
	ESC_IS(
	    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85",
	    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85");
	/* A backslash is not doubled: only real controls are escaped. */
	ESC_IS("a\\nb", "a\\nb");
}

/* C0 controls and DEL: a newline cannot forge a line, ESC no sequence. */
static void
c0_controls_and_del_are_escaped(void)
{
	ESC_IS("a\nb\rc\td", "a\\nb\\rc\\td");
	ESC_IS("\x1b[2Jcleared", "\\x1b[2Jcleared");
	ESC_IS("\x01\x07\x08\x1f", "\\x01\\x07\\x08\\x1f");
	ESC_IS("del\x7f", "del\\x7f");
}

/*
 * Issue 12, finding 7: C1 controls (U+0080-U+009F in UTF-8; U+009B is a
 * CSI for terminals that take 8-bit controls) and bidi controls reached
 * the approver raw.
 */
static void
c1_and_bidi_controls_are_escaped(void)
{
	ESC_IS(
	    "\xc2\x80\xc2\x85\xc2\x9b\xc2\x9f", "\\u0080\\u0085\\u009b\\u009f");
	/* RLO: "txt.exe" shown as "exe.txt". */
	ESC_IS("safe\xe2\x80\xaetxt.exe", "safe\\u202etxt.exe");
	ESC_IS("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad",
	    "\\u202a\\u202b\\u202c\\u202d");
	ESC_IS("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
	    "\\u2066\\u2067\\u2068\\u2069");
	ESC_IS("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "\\u200e\\u200f\\u061c");
	/* Line and paragraph separators break lines in some viewers. */
	ESC_IS("a\xe2\x80\xa8"
	       "b\xe2\x80\xa9",
	    "a\\u2028b\\u2029");
	/* Neighbours of the ranges are ordinary text. */
	ESC_IS("\xc2\xa0\xe2\x80\x90\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa",
	    "\xc2\xa0\xe2\x80\x90\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
}

/* A byte that starts no valid sequence is escaped, byte by byte. */
static void
invalid_utf8_is_escaped_per_byte(void)
{
	ESC_IS("\x85", "\\x85"); /* a lone C1 byte (Latin-1), not U+0085 */
	ESC_IS("\x9b[31m", "\\x9b[31m");
	ESC_IS("\xc0\xaf", "\\xc0\\xaf"); /* overlong '/' */
	ESC_IS("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
	ESC_IS("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	ESC_IS("cut \xe2\x80", "cut \\xe2\\x80"); /* cut short */
	ESC_IS("\xff\xfe", "\\xff\\xfe");
}

/* janee_text_char says how long each character is and whether it is safe. */
static void
text_char_reports_length_and_escape(void)
{
	char esc[JANEE_TEXT_ESC];
	size_t len = 0;

	T_EQ_INT(janee_text_char("\xe2\x80\xae!", &len, esc), 1);
	T_EQ_INT(len, 3);
	T_EQ_STR(esc, "\\u202e");
	T_EQ_INT(janee_text_char("\xc3\xa9", &len, esc), 0);
	T_EQ_INT(len, 2);
	T_EQ_INT(janee_text_char("\xe2", &len, esc), 1);
	T_EQ_INT(len, 1);
	T_EQ_STR(esc, "\\xe2");
}

/* Server text in a message: the same characters dropped, whole ones kept. */
static void
clean_text_drops_unsafe_and_keeps_whole_characters(void)
{
	char out[16];

	janee_clean_text("bad\r\n\x1b[1m\xe2\x80\xae"
			 "code",
	    out, sizeof(out));
	T_EQ_STR(out, "bad[1mcode");
	janee_clean_text("\xc2\x9bx\x85y", out, sizeof(out));
	T_EQ_STR(out, "xy");
	janee_clean_text(NULL, out, sizeof(out));
	T_EQ_STR(out, "");
	/* 14 bytes of room, then a 2-byte character: not cut in half. */
	janee_clean_text("aaaaaaaaaaaaaa\xc3\xa9", out, sizeof(out));
	T_EQ_STR(out, "aaaaaaaaaaaaaa");
	janee_clean_text("aaaaaaaaaaaaa\xc3\xa9", out, sizeof(out));
	T_EQ_STR(out, "aaaaaaaaaaaaa\xc3\xa9");
}

int
main(void)
{
	T_RUN(plain_text_passes_unchanged);
	T_RUN(c0_controls_and_del_are_escaped);
	T_RUN(c1_and_bidi_controls_are_escaped);
	T_RUN(invalid_utf8_is_escaped_per_byte);
	T_RUN(text_char_reports_length_and_escape);
	T_RUN(clean_text_drops_unsafe_and_keeps_whole_characters);
	return t_done();
}
