#!/usr/bin/env python3
"""The layering check of the provider interface (tests/t0002-layering.sh).

usage: layering.py [ROOT]

In ROOT (default .): every providers/*.c defines one provider table with a
type, listed in src/providers.h's JANEE_BUILTIN_PROVIDERS and built by
Makefile.am; no file under src/ or include/janee/ includes a provider's
header (providers/*.h); and none but src/providers.h (the table) names a
provider type in its code: each type and its first word ("github-app",
"github"), as whole words in any case, comments left out.  Prints what it
found, and exits 1 with a FAIL line for each breach.
"""
import glob, os, re, sys

os.chdir(sys.argv[1] if len(sys.argv) > 1 else ".")

def code_of(text):
    """The text with C comments and the insides of character constants
    removed; string literals stay (a type named in a message counts)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text[i] == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            out.append("' '")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)

bad = 0
def fail(msg):
    global bad
    bad += 1
    print("FAIL: " + msg)

files = sorted(glob.glob("providers/*.c"))
types, symbols = {}, {}
for f in files:
    text = open(f).read()
    m = re.search(r'const struct janee_provider (\w+)\s*=\s*\{', text)
    t = re.search(r'\.type\s*=\s*"([^"]+)"', text)
    if not m or not t:
        fail("%s defines no provider table with a type" % f)
        continue
    symbols[f] = m.group(1)
    types[f] = t.group(1)
print("provider types:", ", ".join(sorted(types.values())))
if len(types) < 4:
    fail("expected at least 4 providers, found %d" % len(types))

# The words that name a provider: each type and its first word
# (github-app: "github-app" and "github"), as whole words.
words = set()
for t in types.values():
    words.add(t)
    words.add(re.split(r"[-_]", t)[0])
word_re = re.compile(r"(?i)\b(" + "|".join(sorted(map(re.escape, words))) + r")\b")

headers = {os.path.basename(h) for h in glob.glob("providers/*.h")}
core = sorted(glob.glob("src/*.c") + glob.glob("src/*.h") +
              glob.glob("include/janee/*.h"))
for f in core:
    text = open(f).read()
    for m in re.finditer(r'#\s*include\s*[<"]([^>"]+)[>"]', text):
        inc = m.group(1)
        if os.path.basename(inc) in headers or "providers/" in inc:
            fail("%s includes a provider's header (%s)" % (f, inc))
    if f == "src/providers.h":
        continue  # the table: the one place that names the providers
    code = code_of(text)
    for ln, line in enumerate(code.split("\n"), 1):
        for m in word_re.finditer(line):
            fail("%s:%d names provider type '%s': %s" %
                 (f, ln, m.group(1), line.strip()[:100]))
    for s in symbols.values():
        if re.search(r"\b%s\b" % s, code):
            fail("%s names %s, a provider's table" % (f, s))

table = open("src/providers.h").read()
makefile = open("Makefile.am").read()
for f, s in symbols.items():
    if not re.search(r"&%s\b" % s, table.split("JANEE_BUILTIN_PROVIDERS", 1)[-1]):
        fail("%s (%s) is not in src/providers.h's table" % (s, f))
    if f not in makefile:
        fail("%s is not in Makefile.am" % f)
print("files checked: %d core, %d providers" % (len(core), len(files)))
sys.exit(1 if bad else 0)
