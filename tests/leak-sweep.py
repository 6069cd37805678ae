#!/usr/bin/env python3
"""The suite-wide secret-leak sweep (issue #8; docs/SECURITY.md).

After the integration suite, every byte janee wrote is searched for every
secret used in the tests; a hit outside the intended places is a leak.

What is searched (the capture, see tests/capture.c and tests/lib.sh):
  CAPTURE/SCRIPT/CMD.PID.out|err|outerr  stdout/stderr of every janee-test
      process: the CLI, `janee serve` under the node MCP clients, janee
      in the background
  CAPTURE/SCRIPT/CMD.PID.fileN   each file janee wrote (CSV exports,
      config.json, key files), copied when it was written
  CAPTURE/SCRIPT/CMD.PID.wal     a ledger WAL left at a process's exit
  CAPTURE/SCRIPT/homes/N/...     each janee home at the script's end:
      janee.db, -wal, -shm, config.json, master.key
What is searched for (SECRETS, one "KIND<TAB>VALUE" line each, or
"KIND:b64<TAB>BASE64"): every token the test provider minted and every
credential it read; every value janee sealed and every passphrase it
derived a key from (janee-test's hooks); every secret-looking field the
fakes and the oidc-provider peer received or answered (access, refresh
and ID tokens, codes, device codes, client secrets, assertions, bearer
and Basic credentials, Vault tokens and values); what the scripts
registered with leak_secret/leak_secret_file (passphrases, key files).
Values shorter than 8 bytes are not searched.  Each value is searched as
it is, JSON-escaped, percent-encoded, and base64/base64url encoded at
every alignment (as inside an HTTP Basic header); a PEM key by each line
of its body as well.

The intended places, not searched:
  - stdout of `janee token` (the token is its output; also its merged
    stdout+stderr, when a script sent both to one file)
  - the backup `janee import-config` keeps of the MCP client config it
    rewrites (FILE.janee-backup-TIME, 0600): the user's own file as it
    was, plaintext secrets and all, on purpose; janee says where it is
  - in the stdout of `janee serve`, the JSON-RPC results of successful
    request_token calls (a line that parses as a response whose result
    has structuredContent.token and isError false); every other line --
    errors, notifications, list_leases -- is searched
  - the command of `janee exec` writes to the original descriptors, not
    through the capture, so its output (the child's environment) is not
    in the haystack at all; janee exec's own output is searched
Sealed secrets in the ledger are ciphertext; only plaintext is a hit.

Output: "not ok - leak sweep: ..." per hit (kind, encoding, file, offset,
and only the first 4 characters of the secret), or one line
"ok - leak sweep: N secrets, M files, B bytes searched".  It also fails
when there is nothing to search or when the search finds no token even
in the intended places (a control: the capture or the search broke).

usage: leak-sweep.py CAPTURE_DIR SECRETS_FILE
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse

MIN = 8  # shorter secrets are not searched
MIN_ENCODED = 12  # nor encoded fragments shorter than this
MAX_REPORT = 50


def load_secrets(path):
    """{value bytes: kind} from the secrets file."""
    out = {}
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return out
    with f:
        for line in f:
            line = line.rstrip(b"\n")
            if b"\t" not in line:
                continue
            kind, value = line.split(b"\t", 1)
            kind = kind.decode("utf-8", "replace")
            if kind.endswith(":b64"):
                kind = kind[:-4]
                try:
                    value = base64.b64decode(value)
                except ValueError:
                    continue
            if len(value) >= MIN:
                out.setdefault(value, kind)
    return out


def b64_fragments(v, alphabet):
    """The part of the base64 of v that does not depend on its
    neighbours, for v at each of the three alignments."""
    frags = []
    for k in range(3):
        enc = alphabet(b"\0" * k + v).rstrip(b"=")
        # character j carries bits 6j..6j+5 of the input
        first = next(j for j in range(len(enc)) if (6 * j) // 8 >= k)
        last = max(j for j in range(len(enc))
                   if (6 * j + 5) // 8 < k + len(v))
        frag = enc[first:last + 1]
        if len(frag) >= MIN_ENCODED:
            frags.append(frag)
    return frags


def needles_for(value, kind):
    """[(needle bytes, kind, how)] for one secret."""
    out = [(value, kind, "plain")]
    if b"-----BEGIN" in value:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= 16 and not line.startswith(b"-----"):
                out.append((line, kind, "PEM line"))
    elif b"\n" in value:
        for line in value.splitlines():
            if len(line.strip()) >= MIN:
                out.append((line.strip(), kind, "line"))
    try:
        js = json.dumps(value.decode("utf-8"))[1:-1].encode()
        if js != value:
            out.append((js, kind, "JSON-escaped"))
    except ValueError:  # not UTF-8: binary, searched as bytes only
        pass
    pct = urllib.parse.quote_from_bytes(value, safe="")
    form = urllib.parse.quote_from_bytes(value, safe=" ").replace(" ", "+")
    for how, enc in (("percent-encoded", pct), ("form-encoded", form)):
        enc = enc.encode()
        if enc != value:
            out.append((enc, kind, how))
    for how, alphabet in (("base64", base64.b64encode),
                          ("base64url", base64.urlsafe_b64encode)):
        for frag in b64_fragments(value, alphabet):
            out.append((frag, kind, how))
    # grep -F takes one pattern per line
    return [n for n in out if b"\n" not in n[0] and b"\r" not in n[0]
            and len(n[0]) >= MIN]


def read_argv(path):
    try:
        with open(path, "rb") as f:
            return [a.decode("utf-8", "replace")
                    for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def command(argv):
    """The janee command word, past the global options."""
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] in ("--home", "--passphrase-fd"):
            i += 1
        i += 1
    return argv[i] if i < len(argv) else ""


def written_paths(paths_file):
    """The paths of CMD.PID.fileN, in order (the "file" lines)."""
    try:
        with open(paths_file, "rb") as f:
            return [line.split(b"\t", 1)[1].decode("utf-8", "replace")
                    for line in f.read().split(b"\n")
                    if line.startswith(b"file\t")]
    except OSError:
        return []


def is_token_result(msg):
    if not isinstance(msg, dict) or "method" in msg:
        return False
    r = msg.get("result")
    return (isinstance(r, dict) and r.get("isError") is False
            and isinstance(r.get("structuredContent"), dict)
            and "token" in r["structuredContent"])


def without_token_results(data):
    """serve's stdout with each successful request_token result blanked
    (same length, so offsets stay true); and how many were blanked."""
    out, n = [], 0
    for line in data.split(b"\n"):
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
        if is_token_result(msg):
            out.append(b" " * len(line))
            n += 1
        elif isinstance(msg, list) and any(map(is_token_result, msg)):
            # A JSON-RPC batch's answer (protocol 2025-03-26): keep the
            # other answers, searched as janee wrote them re-encoded,
            # padded to the line's length so later offsets stay true.
            rest = [m for m in msg if not is_token_result(m)]
            n += len(msg) - len(rest)
            kept = json.dumps(rest, separators=(",", ":"),
                              ensure_ascii=False).encode() if rest else b""
            out.append(kept.ljust(len(line)))
        else:
            out.append(line)
    return b"\n".join(out), n


def classify(capdir):
    """([(path, label)] to search, [(path, label)] excluded, notes)."""
    search, excluded, blanked = [], [], 0
    tmp = tempfile.mkdtemp(prefix="leak-sweep.")
    for root, dirs, files in os.walk(capdir):
        dirs.sort()
        for name in sorted(files):
            p = os.path.join(root, name)
            label = os.path.relpath(p, capdir)
            if root == capdir or name.endswith((".argv", ".paths")):
                continue  # the secrets file, the capture's own notes
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            base, _, stream = name.rpartition(".")
            if stream.startswith("file") and stream[4:].isdigit():
                # import-config's backup of the user's MCP client config
                # is that file as it was, plaintext secrets and all, on
                # purpose (0600; janee says so and where it is)
                cmd = command(read_argv(os.path.join(root, base + ".argv")))
                written = written_paths(os.path.join(root, base + ".paths"))
                n = int(stream[4:])
                if cmd == "import-config" and n < len(written) and \
                        ".janee-backup-" in os.path.basename(written[n]):
                    excluded.append((p, label))
                    continue
            if stream in ("out", "outerr"):
                argv = read_argv(os.path.join(root, base + ".argv"))
                cmd = command(argv)
                # Only a token's output is the intended place: --help
                # and friends are searched like any other output.
                if cmd == "token" and not {"--help", "-h", "--version"} & \
                        set(argv):
                    excluded.append((p, label))
                    continue
                if cmd == "serve" and stream == "out":
                    with open(p, "rb") as f:
                        data, n = without_token_results(f.read())
                    if n:
                        blanked += n
                        q = os.path.join(tmp, str(len(search)))
                        with open(q, "wb") as f:
                            f.write(data)
                        search.append((q, label))
                        continue
            search.append((p, label))
    return search, excluded, blanked, tmp


def grep(needle_file, paths):
    """[(path, offset, match)] over the files, with grep -F (fast on
    thousands of patterns)."""
    hits = []
    env = dict(os.environ, LC_ALL="C")
    for i in range(0, len(paths), 200):
        r = subprocess.run(
            ["grep", "-abo", "-H", "-F", "-f", needle_file, "--"]
            + paths[i:i + 200], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, check=False)
        if r.returncode > 1:
            raise RuntimeError(r.stderr.decode("utf-8", "replace"))
        for line in r.stdout.split(b"\n"):
            if not line:
                continue
            path, off, match = line.split(b":", 2)
            hits.append((path.decode(), int(off), match))
    return hits


def main(argv):
    if len(argv) != 3:
        print("usage: leak-sweep.py CAPTURE_DIR SECRETS_FILE",
              file=sys.stderr)
        return 2
    capdir, secrets_file = argv[1], argv[2]
    secrets = load_secrets(secrets_file)
    needles = {}
    for value, kind in secrets.items():
        for n, k, how in needles_for(value, kind):
            needles.setdefault(n, (k, how, value))
    search, excluded, blanked, tmp = classify(capdir)
    search = [(p, label) for p, label in search if os.path.getsize(p) > 0]
    nbytes = sum(os.path.getsize(p) for p, _ in search)
    if not search and secrets:
        print("not ok - leak sweep: nothing was captured (%d secrets): "
              "is the capture on?" % len(secrets))
        return 1
    if not search:
        print("ok - leak sweep # SKIP nothing captured and no secret "
              "recorded (t0075 alone sweeps its own captures)")
        return 0
    if not secrets:
        # Scripts that handle no secret (t0001, t0025 run alone): there is
        # nothing to look for.  The whole suite always records some, and
        # its control below catches a recording that broke.
        print("ok - leak sweep # SKIP these scripts used no secret "
              "(%d files captured)" % len(search))
        return 0
    fd, needle_file = tempfile.mkstemp(dir=tmp)
    with os.fdopen(fd, "wb") as f:
        for n in needles:
            f.write(n + b"\n")
    labels = dict(search)
    hits = grep(needle_file, [p for p, _ in search])
    control = grep(needle_file, [p for p, _ in excluded
                                 if os.path.getsize(p) > 0]) \
        if excluded else []
    subprocess.run(["rm", "-rf", tmp], check=False)

    print("# leak sweep: %d needles (encodings) for %d secrets; %d files "
          "excluded as intended (janee token stdout, import-config backups), %d request_token "
          "results skipped in serve stdout; %d hits there (control)"
          % (len(needles), len(secrets), len(excluded), blanked,
             len(control)))
    failed = 0
    for path, off, match in hits:
        kind, how, value = needles.get(match, ("?", "?", match))
        failed += 1
        if failed <= MAX_REPORT:
            shown = value[:4].decode("utf-8", "replace")
            print("not ok - leak sweep: %s (%s, %d bytes, starts %r) in %s "
                  "at offset %d" % (kind, how, len(value), shown,
                                    labels.get(path, path), off))
    if failed > MAX_REPORT:
        print("not ok - leak sweep: %d more hits not shown"
              % (failed - MAX_REPORT))
    # The control needs a token janee handed out (sealed into a lease)
    # and a `janee token` that may have printed it: a subset of scripts
    # whose token commands all failed has nothing to find there.
    minted = any(k == "sealed-lease-token" for k in secrets.values())
    if excluded and minted and not control:
        print("not ok - leak sweep: no token found even in janee token's "
              "stdout (control): the capture or the search is broken")
        failed += 1
    if failed:
        return 1
    print("ok - leak sweep: %d secrets, %d files, %d bytes searched"
          % (len(secrets), len(search), nbytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
