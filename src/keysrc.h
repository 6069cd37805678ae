/*
 * Where a passphrase comes from, in order: --passphrase-fd N, the
 * JANEE_PASSPHRASE environment variable (for automation), then the
 * terminal when one is there and asking is allowed.
 */
#ifndef JANEE_KEYSRC_H
#define JANEE_KEYSRC_H

#include "common.h"

struct keysrc {
	int fd; /* --passphrase-fd, or -1 */
	int new_fd; /* --new-passphrase-fd for rekey, or -1 */
	int may_prompt; /* 0: never open the terminal */
	int no_agent; /* 1: never take the key from the agent (unlock) */
};

/* Whether a passphrase can be had without asking anyone. */
int keysrc_quiet(const struct keysrc *ks);

/*
 * Get the current passphrase.  JANEE_ERR_LOCKED when none can be had,
 * with a message saying how to give one.
 */
int keysrc_get(
    struct keysrc *ks, const char *prompt, struct janee_secret **out) JANEE_WUR;

/*
 * Get a new passphrase (init, rekey): --new-passphrase-fd, then
 * JANEE_NEW_PASSPHRASE, then (for init) the same sources as keysrc_get,
 * then the terminal, asked twice.  At least 8 bytes.
 */
int keysrc_get_new(
    struct keysrc *ks, int for_init, struct janee_secret **out) JANEE_WUR;

struct buf;

/*
 * Read from the terminal with echo off: one line, or everything up to
 * Ctrl-D when to_eof (a pasted PEM key).  JANEE_ERR_LOCKED when there is
 * no terminal.  b is initialised here, bounded by max.
 */
int tty_read_hidden(
    const char *prompt, int to_eof, size_t max, struct buf *b) JANEE_WUR;

#endif
