#!/usr/bin/env python3
"""Check a CSV file independently of janee, with Python's csv module.

usage: csvcheck.py FILE [checks...]     (FILE "-" reads stdin)

  --header A,B,C       the first row is exactly these column names
  --columns N          every row has N fields (default: the header's count)
  --rows N             exactly N data rows (after the header)
  --min-rows N         at least N data rows
  --expect COL=VALUE   some data row holds exactly VALUE in column COL
  --expect-json FILE   the same for each {"column": C, "value": V} in the
                       JSON list in FILE, with an optional "count": N
                       (exactly N rows hold it)
  --all COL=VALUE      every data row holds VALUE in COL
  --none COL=VALUE     no data row holds VALUE in COL
  --absent TEXT        TEXT occurs nowhere in the file (it is never printed,
                       so it may be a secret)
  --no-formula         no cell a spreadsheet may see starts with = + - @
                       tab or CR, past spaces: neither a field nor a part
                       after , ; tab CR or LF (each was neutralized with
                       an apostrophe)
  --crlf               every record ends with CRLF (RFC 4180 section 2);
                       a bare CR or LF only inside quotes

Exits 0 when every check holds; otherwise prints one line per failure on
stderr ("csvcheck: FILE: ...") and exits 1.  Usage errors exit 2.
"""

import csv
import io
import json
import re
import sys

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet that splits on other separators, or ignores the
# quotes, starts a cell inside a field.
CELL_SPLIT = re.compile(r"[,;\t\r\n]")


def formula_cell(v):
    """Whether a field, or a cell some reader cuts out of it, is a formula."""
    if v.lstrip(" ").startswith(FORMULA_START):
        return True
    return any(v[m.end():].lstrip(" ").startswith(FORMULA_START)
               for m in CELL_SPLIT.finditer(v))


def usage(msg):
    sys.stderr.write("csvcheck: %s\n" % msg)
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    sys.exit(2)


def parse_args(argv):
    opts = {"header": None, "columns": None, "rows": None, "min_rows": None,
            "expect": [], "all": [], "none": [], "absent": [],
            "no_formula": False, "crlf": False}
    if not argv:
        usage("no file given")
    opts["file"] = argv[0]
    i = 1

    def value():
        nonlocal i
        if i + 1 >= len(argv):
            usage("option '%s' needs a value" % argv[i])
        i += 1
        return argv[i]

    def pair(s):
        if "=" not in s:
            usage("'%s' is not COLUMN=VALUE" % s)
        col, val = s.split("=", 1)
        return col, val

    def number(s):
        try:
            n = int(s)
        except ValueError:
            usage("'%s' is not a number" % s)
        if n < 0:
            usage("'%s' is negative" % s)
        return n

    while i < len(argv):
        a = argv[i]
        if a == "--header":
            opts["header"] = value().split(",")
        elif a == "--columns":
            opts["columns"] = number(value())
        elif a == "--rows":
            opts["rows"] = number(value())
        elif a == "--min-rows":
            opts["min_rows"] = number(value())
        elif a == "--expect":
            col, val = pair(value())
            opts["expect"].append({"column": col, "value": val})
        elif a == "--expect-json":
            path = value()
            try:
                with open(path, encoding="utf-8") as f:
                    items = json.load(f)
            except (OSError, ValueError) as e:
                usage("cannot read '%s': %s" % (path, e))
            if not isinstance(items, list) or not all(
                    isinstance(x, dict) and isinstance(x.get("column"), str)
                    and isinstance(x.get("value"), str) for x in items):
                usage("'%s' must hold a list of {\"column\": ..., "
                      "\"value\": ...}" % path)
            opts["expect"].extend(items)
        elif a == "--all":
            opts["all"].append(pair(value()))
        elif a == "--none":
            opts["none"].append(pair(value()))
        elif a == "--absent":
            opts["absent"].append(value())
        elif a == "--no-formula":
            opts["no_formula"] = True
        elif a == "--crlf":
            opts["crlf"] = True
        else:
            usage("unknown option '%s'" % a)
        i += 1
    return opts


def show(s, limit=60):
    """A value made printable for a message: repr, cut when long."""
    r = repr(s)
    return r if len(r) <= limit else r[:limit] + "...'"


def check_crlf(text, fail):
    """Scan the raw text: outside quotes, CR and LF come only as CRLF."""
    inq = False
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == '"':
            inq = not inq  # a doubled quote toggles twice
        elif not inq and ch == "\r":
            if i + 1 >= n or text[i + 1] != "\n":
                fail("record %d: a CR not followed by LF" % line)
                return
            i += 1
            line += 1
        elif not inq and ch == "\n":
            fail("record %d: ends with a bare LF, not CRLF" % line)
            return
        i += 1
    if inq:
        fail("the file ends inside a quoted field")
    elif n > 0 and not text.endswith("\r\n"):
        fail("the last record does not end with CRLF")


def main(argv):
    o = parse_args(argv)
    name = o["file"]
    failures = []

    def fail(msg):
        failures.append(msg)

    try:
        if name == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                raw = f.read()
    except OSError as e:
        sys.stderr.write("csvcheck: cannot read '%s': %s\n" % (name, e))
        return 1
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.stderr.write("csvcheck: %s: not UTF-8: %s\n" % (name, e))
        return 1

    for k, secret in enumerate(o["absent"]):
        if secret and secret in text:
            fail("a value that must not be there (--absent #%d) is in the "
                 "file" % (k + 1))

    if o["crlf"]:
        check_crlf(text, fail)

    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as e:
        sys.stderr.write("csvcheck: %s: not valid CSV: %s\n" % (name, e))
        return 1
    if not rows:
        sys.stderr.write("csvcheck: %s: empty, not even a header\n" % name)
        return 1

    header, data = rows[0], rows[1:]
    if o["header"] is not None and header != o["header"]:
        fail("header is %s, expected %s" % (header, o["header"]))
    ncol = o["columns"] if o["columns"] is not None else len(header)
    for r, row in enumerate(rows):
        if len(row) != ncol:
            fail("row %d has %d fields, expected %d" % (r, len(row), ncol))

    if o["rows"] is not None and len(data) != o["rows"]:
        fail("%d data rows, expected %d" % (len(data), o["rows"]))
    if o["min_rows"] is not None and len(data) < o["min_rows"]:
        fail("%d data rows, expected at least %d" % (len(data),
                                                     o["min_rows"]))

    def column(col):
        if col not in header:
            fail("no column %s in the header %s" % (show(col), header))
            return None
        return header.index(col)

    def cell(row, c):
        return row[c] if c < len(row) else None

    for e in o["expect"]:
        c = column(e["column"])
        if c is None:
            continue
        n = sum(1 for row in data if cell(row, c) == e["value"])
        want = e.get("count")
        if want is None and n == 0:
            seen = sorted({cell(row, c) for row in data} - {None})
            fail("no row holds %s in column %s; the column holds %s" %
                 (show(e["value"]), e["column"],
                  ", ".join(show(s) for s in seen[:10]) or "nothing"))
        elif want is not None and n != want:
            fail("%d rows hold %s in column %s, expected %d" %
                 (n, show(e["value"]), e["column"], want))

    for col, val in o["all"]:
        c = column(col)
        if c is None:
            continue
        for r, row in enumerate(data, 1):
            if cell(row, c) != val:
                fail("data row %d holds %s in column %s, expected %s" %
                     (r, show(cell(row, c)), col, show(val)))

    for col, val in o["none"]:
        c = column(col)
        if c is None:
            continue
        for r, row in enumerate(data, 1):
            if cell(row, c) == val:
                fail("data row %d holds %s in column %s" %
                     (r, show(val), col))

    if o["no_formula"]:
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if formula_cell(v):
                    fail("row %d field %d starts a formula: %s" %
                         (r, c + 1, show(v)))

    for msg in failures:
        # A leaked secret must not reach the output through a message.
        for secret in o["absent"]:
            if secret:
                msg = msg.replace(secret, "<redacted>")
        sys.stderr.write("csvcheck: %s: %s\n" % (name, msg))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
