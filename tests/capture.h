/*
 * Output capture of the test binary (tests/capture.c), for the suite-wide
 * leak sweep (tests/leak-sweep.py).  Linked into tests/janee-test only.
 */
#ifndef JANEE_TEST_CAPTURE_H
#define JANEE_TEST_CAPTURE_H

/*
 * Set by the capture when it runs; the test provider's crash hook calls
 * it before it ends the process with _exit(), so that what janee wrote
 * before the "crash" is copied out before the shell sees the exit.
 * Defined in tests/provider-test.c (NULL elsewhere).
 */
extern void (*janee_test_capture_end)(void);

/*
 * Record a secret the test provider issued: one line "KIND<TAB>VALUE"
 * appended to $JANEE_LEAK_SECRETS_FILE when it is set.
 */
void janee_test_leak_record(const char *kind, const char *value, size_t len);

#endif
