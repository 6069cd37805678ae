#!/bin/sh
# tests/janee-test under valgrind memcheck (JANEE_VALGRIND=1): any error,
# or a definite leak, makes the command fail with status 99.
exec valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-fds=no "$JANEE_BUILDDIR/tests/janee-test" "$@"
