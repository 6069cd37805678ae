/*
 * Unit tests: the CSV writer, byte for byte (RFC 4180 section 2 quoting,
 * CRLF row ends, OWASP formula neutralization) and its write errors.
 */
#include "common.h"

#include <signal.h>

#include "csv.h"

#include "t.h"

/* Everything written to fp so far, NUL-terminated; the caller frees. */
static char *
slurp(FILE *fp, size_t *lenp)
{
	char *p;
	long n;

	if (fflush(fp) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0 ||
	    (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, fp) != (size_t)n)
		abort();
	p[n] = '\0';
	*lenp = (size_t)n;
	return p;
}

/* Show CR, LF, tab and quotes so a failure can be read. */
static void
show(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (p[i]) {
		case '\r':
			fputs("\\r", stderr);
			break;
		case '\n':
			fputs("\\n", stderr);
			break;
		case '\t':
			fputs("\\t", stderr);
			break;
		default:
			fputc(p[i], stderr);
		}
}

static void
expect_bytes(const char *got, size_t len, const char *want, int line)
{
	if (len != strlen(want) || memcmp(got, want, len) != 0) {
		fprintf(stderr, "  %s:%d: wrote \"", __FILE__, line);
		show(got, len);
		fputs("\", expected \"", stderr);
		show(want, strlen(want));
		fputs("\"\n", stderr);
		t_case_failed = 1;
	}
}

/* One row of n fields, compared byte for byte with want. */
static void
row_is(const char *const *f, int n, const char *want, int line)
{
	struct csv c;
	FILE *fp;
	size_t len;
	char *got;
	int i;

	if ((fp = tmpfile()) == NULL)
		abort();
	csv_init(&c, fp);
	for (i = 0; i < n; i++)
		csv_field(&c, f[i]);
	csv_end_row(&c);
	T_EQ_INT(csv_finish(&c), 0);
	got = slurp(fp, &len);
	expect_bytes(got, len, want, line);
	free(got);
	fclose(fp);
}

#define ROW(want, ...) \
	do { \
		const char *const row_f[] = { __VA_ARGS__ }; \
		row_is(row_f, (int)nitems(row_f), want, __LINE__); \
	} while (0)

static void
plain_fields_are_written_bare(void)
{
	ROW("a,b,c\r\n", "a", "b", "c");
	ROW("hello world\r\n", "hello world");
	ROW("lse_abc,[x],ok.fine,2026-11-28T10:00:00.000Z\r\n", "lse_abc",
	    "[x]", "ok.fine", "2026-11-28T10:00:00.000Z");
	/* A formula character past the first place is plain data. */
	ROW("a=b,x'y\r\n", "a=b", "x'y");
	/* An apostrophe already there is left alone. */
	ROW("'=x\r\n", "'=x");
}

static void
field_with_comma_is_quoted(void)
{
	ROW("\"a,b\",c\r\n", "a,b", "c");
	ROW("\",\"\r\n", ",");
	ROW("x,\"text, with comma\"\r\n", "x", "text, with comma");
}

static void
field_with_quote_is_quoted_and_doubled(void)
{
	ROW("\"say \"\"hi\"\"\"\r\n", "say \"hi\"");
	ROW("\"\"\"\"\r\n", "\"");
	ROW("\"\"\"\"\"\"\r\n", "\"\"");
	ROW("\"a\"\"b\",c\r\n", "a\"b", "c");
}

static void
field_with_cr_or_lf_is_quoted(void)
{
	ROW("\"a\nb\"\r\n", "a\nb");
	ROW("\"a\rb\"\r\n", "a\rb");
	ROW("\"a\r\nb\",z\r\n", "a\r\nb", "z");
	ROW("\"end\n\"\r\n", "end\n");
}

static void
null_and_empty_fields_are_empty(void)
{
	ROW(",,x\r\n", NULL, "", "x");
	ROW("x,,\r\n", "x", NULL, "");
	ROW(",\r\n", NULL, NULL);
	ROW("a,,b\r\n", "a", "", "b");
}

static void
rows_end_in_crlf_and_restart_fields(void)
{
	struct csv c;
	FILE *fp;
	size_t len;
	char *got;

	if ((fp = tmpfile()) == NULL)
		abort();
	csv_init(&c, fp);
	csv_field(&c, "a");
	csv_field(&c, "b");
	csv_end_row(&c);
	csv_field(&c, "c");
	csv_field(&c, NULL);
	csv_end_row(&c);
	csv_field_int(&c, 42);
	csv_field_int(&c, 0);
	csv_field_int(&c, INT64_MAX);
	csv_end_row(&c);
	T_EQ_INT(csv_finish(&c), 0);
	got = slurp(fp, &len);
	expect_bytes(
	    got, len, "a,b\r\nc,\r\n42,0,9223372036854775807\r\n", __LINE__);
	free(got);
	fclose(fp);
}

/* OWASP "CSV Injection": a leading =, +, -, @, tab or CR gets an
 * apostrophe; quoting still applies to the result. */
static void
formula_fields_get_an_apostrophe(void)
{
	ROW("'=1+1\r\n", "=1+1");
	ROW("'=\r\n", "=");
	ROW("'+1\r\n", "+1");
	ROW("'-1\r\n", "-1");
	ROW("'@SUM(A1:A9)\r\n", "@SUM(A1:A9)");
	ROW("\"'\tx\"\r\n", "\tx");
	ROW("\"'\rx\"\r\n", "\rx");
	ROW("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n",
	    "=HYPERLINK(\"http://x\",\"y\")");
	ROW("\"'=a,b\"\r\n", "=a,b");
	ROW("\"'-x\ny\"\r\n", "-x\ny");
	ROW("ok,'=cmd|' /C calc'!A0,ok\r\n", "ok", "=cmd|' /C calc'!A0", "ok");
	/* Inside a cell a formula character is plain data. */
	ROW("x=1,a+b,a-b,a@b\r\n", "x=1", "a+b", "a-b", "a@b");
	/* Spaces a reader may trim do not hide one. */
	ROW("  '=1+1\r\n", "  =1+1");
}

/*
 * Issue 12, finding 6: a reader that splits on ';' or a tab would see a
 * cell start in the middle of a field.  Such a field is quoted (one cell
 * for every reader that honours quotes).
 */
static void
semicolon_and_tab_fields_are_quoted(void)
{
	ROW("\"ok;fine\"\r\n", "ok;fine");
	ROW("\"a\tb\",c\r\n", "a\tb", "c");
	ROW("\";\"\r\n", ";");
}

/*
 * ... and a formula character where such a reader (or one that ignores
 * the quotes) starts a cell gets its apostrophe too: after a comma, a
 * semicolon, a tab, a CR or an LF, past spaces.  The client name of the
 * review, a;=cmd|' /C calc'!A0, is the first case.
 */
static void
formula_after_a_separator_is_neutralized(void)
{
	ROW("\"a;'=cmd|' /C calc'!A0\"\r\n", "a;=cmd|' /C calc'!A0");
	ROW("\"a,'+1\"\r\n", "a,+1");
	ROW("\"a\t'-1\"\r\n", "a\t-1");
	ROW("\"a\n'@x\"\r\n", "a\n@x");
	ROW("\"a\r'=x\"\r\n", "a\r=x");
	ROW("\"a; '=x\"\r\n", "a; =x");
	ROW("\"'=a;'=b;c\"\r\n", "=a;=b;c");
	/* A tab after a separator is a formula character and a separator. */
	ROW("\"a;'\t'=x\"\r\n", "a;\t=x");
	/* Past the cell's start it is data again. */
	ROW("\"a;b=c\"\r\n", "a;b=c");
}

/* A number is data, never a formula: a negative one stays a number. */
static void
negative_numbers_are_not_neutralized(void)
{
	struct csv c;
	FILE *fp;
	size_t len;
	char *got;

	if ((fp = tmpfile()) == NULL)
		abort();
	csv_init(&c, fp);
	csv_field_int(&c, -5);
	csv_field_int(&c, INT64_MIN);
	csv_end_row(&c);
	T_EQ_INT(csv_finish(&c), 0);
	got = slurp(fp, &len);
	expect_bytes(got, len, "-5,-9223372036854775808\r\n", __LINE__);
	free(got);
	fclose(fp);
}

/* Small writes sit in stdio's buffer: only the flush can fail, and
 * csv_finish must report it. */
static void
finish_reports_a_failed_flush(void)
{
	struct csv c;
	FILE *fp;

	if ((fp = fopen("/dev/full", "w")) == NULL) {
		fprintf(stderr, "  cannot open /dev/full\n");
		t_case_failed = 1;
		return;
	}
	janee_err_clear();
	csv_init(&c, fp);
	csv_field(&c, "a");
	csv_field(&c, "b,c");
	csv_end_row(&c);
	T_EQ_INT(c.err, 0); /* nothing has reached the device yet */
	T_EQ_INT(csv_finish(&c), JANEE_ERR_IO);
	T_ASSERT(
	    strstr(janee_err_msg(JANEE_ERR_IO), "cannot write CSV") != NULL);
	janee_err_clear();
	fclose(fp);
}

/* Writes larger than the buffer fail on the way; err sticks. */
static void
write_errors_stick_until_finish(void)
{
	char big[1000];
	struct csv c;
	FILE *fp;
	int i;

	if ((fp = fopen("/dev/full", "w")) == NULL) {
		fprintf(stderr, "  cannot open /dev/full\n");
		t_case_failed = 1;
		return;
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	janee_err_clear();
	csv_init(&c, fp);
	for (i = 0; i < 100; i++) {
		csv_field(&c, big);
		csv_end_row(&c);
	}
	T_EQ_INT(c.err, 1);
	/* A later row that happens to fit in the buffer does not clear it. */
	csv_field(&c, "x");
	csv_end_row(&c);
	T_EQ_INT(c.err, 1);
	T_EQ_INT(csv_finish(&c), JANEE_ERR_IO);
	janee_err_clear();
	fclose(fp);
}

/* A reader that went away (EPIPE) is a failure too. */
static void
finish_reports_a_closed_pipe(void)
{
	struct csv c;
	FILE *fp;
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	if (pipe(fds) != 0 || (fp = fdopen(fds[1], "w")) == NULL)
		abort();
	close(fds[0]);
	janee_err_clear();
	csv_init(&c, fp);
	csv_field(&c, "a");
	csv_end_row(&c);
	T_EQ_INT(csv_finish(&c), JANEE_ERR_IO);
	janee_err_clear();
	fclose(fp);
}

static void
finish_on_a_good_file_is_ok(void)
{
	struct csv c;
	FILE *fp;

	if ((fp = tmpfile()) == NULL)
		abort();
	csv_init(&c, fp);
	csv_field(&c, "a");
	csv_end_row(&c);
	T_EQ_INT(csv_finish(&c), 0);
	T_EQ_INT(c.err, 0);
	fclose(fp);
}

int
main(void)
{
	T_RUN(plain_fields_are_written_bare);
	T_RUN(field_with_comma_is_quoted);
	T_RUN(field_with_quote_is_quoted_and_doubled);
	T_RUN(field_with_cr_or_lf_is_quoted);
	T_RUN(null_and_empty_fields_are_empty);
	T_RUN(rows_end_in_crlf_and_restart_fields);
	T_RUN(formula_fields_get_an_apostrophe);
	T_RUN(semicolon_and_tab_fields_are_quoted);
	T_RUN(formula_after_a_separator_is_neutralized);
	T_RUN(negative_numbers_are_not_neutralized);
	T_RUN(finish_reports_a_failed_flush);
	T_RUN(write_errors_stick_until_finish);
	T_RUN(finish_reports_a_closed_pipe);
	T_RUN(finish_on_a_good_file_is_ok);
	return t_done();
}
