#!/usr/bin/env python3
"""Raw HTTP/1.1 requests to janee proxy, for t0570: paths no HTTP client
would send as they are (traversal spellings, control bytes).

  proxy-raw.py PORT KEY C_FILE  -> one JSON line per spelling of the
  C_FILE's traversals[] array (o/r replaced by acme/api, so that what a
  decoding proxy would make of it is an allowed call):
  {"path": ..., "status": N, "body": ...}
"""
import ast
import json
import re
import socket
import sys


def spellings(cfile):
    src = open(cfile, encoding="utf-8").read()
    block = re.search(r"traversals\[\] = \{(.*?)\n\};", src, re.S).group(1)
    out = []
    for lit in re.findall(r'^\s*("(?:[^"\\]|\\.)*"),', block, re.M):
        s = ast.literal_eval(lit)
        out.append(s.replace("/o/r", "/acme/api").replace("/o%2fr", "/acme%2fapi"))
    return out


def send(port, key, path):
    # The C string's bytes: each character below 256 is one byte.
    raw = path.encode("latin-1")
    req = (b"GET " + raw + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Janee-Proxy-Key: " + key.encode() + b"\r\nConnection: close\r\n\r\n")
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    s.sendall(req)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d+)", head)
    return (int(m.group(1)) if m else 0), body.decode("utf-8", "replace")


def main():
    port, key, cfile = sys.argv[1:4]
    for p in spellings(cfile):
        status, body = send(port, key, p)
        print(json.dumps({"path": p, "status": status, "body": body}))


if __name__ == "__main__":
    main()
