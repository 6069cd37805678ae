#!/bin/sh
# The layering of the provider interface (issue 17): adding a provider is
# its file under providers/, one entry in the table (src/providers.h) and
# Makefile.am.  No file under src/ or include/ includes a provider's
# header or names a provider type in its code (the table alone names the
# providers), and each provider file is in the table and in the build
# (tests/layering.py).
. "$JANEE_SRCDIR/tests/lib.sh"

"$PYTHON3" "$JANEE_SRCDIR/tests/layering.py" "$JANEE_SRCDIR" >"$TMP/report" 2>&1
st=$?
sed 's/^/# /' "$TMP/report"
check "no file under src/ or include/ includes a provider's header or names a provider type; each provider is in the table and the build" \
    [ "$st" -eq 0 ]
expect_in "$TMP/report" 'provider types: github-app, oauth2, postgresql, slack' \
    "it knows the four providers"

# The check can fail: a copy of the tree with a core file that names a
# type in a message, one that includes a provider's header, and a
# provider left out of the table.
mkdir -p "$TMP/tree"
(cd "$JANEE_SRCDIR" && cp -R src include providers Makefile.am "$TMP/tree/")
cat >"$TMP/tree/src/bad.c" <<'EOF'
/* A comment may say GitHub and Slack. */
#include "slack.h"
static const char *msg = "narrowed (for GitHub) to repositories";
EOF
sed -i 's/&postgresql_provider,//' "$TMP/tree/src/providers.h"
"$PYTHON3" "$JANEE_SRCDIR/tests/layering.py" "$TMP/tree" >"$TMP/bad" 2>&1
check "a planted breach fails the check" [ $? -ne 0 ]
expect_in "$TMP/bad" "src/bad.c includes a provider's header \\(slack.h\\)" "it names the include"
expect_in "$TMP/bad" "src/bad.c:3 names provider type 'GitHub'" "it names the type in the message, not the comment's"
expect_not_in "$TMP/bad" "src/bad.c:1 " "a comment is not code"
expect_in "$TMP/bad" "postgresql_provider .* is not in src/providers.h's table" "it names the provider missing from the table"

done_testing
