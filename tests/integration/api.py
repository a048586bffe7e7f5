"""Helpers for the HTTP API tests: calls, token forging, a player.

Imported by the test scripts' inline Python (PYTHONPATH is this
directory).  Only the standard library, python3-websockets and
python3-msgpack, and the openssl command to sign forged tokens.
"""
import base64
import http.client
import json
import subprocess
import sys
import tempfile


class Api:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None, token=None, raw=None,
             headers=None):
        """(status, json or None, headers) of one request."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = raw
        if raw is not None:
            h.setdefault("Content-Type", "application/json")
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        try:
            j = json.loads(text) if text else None
        except ValueError:
            j = None
        return r.status, j, dict((k.lower(), v) for k, v in r.getheaders())

    def ok(self, method, path, body=None, token=None):
        st, j, _ = self.call(method, path, body, token)
        if st != 200:
            fail("%s %s: status %d, want 200: %s" % (method, path, st, j))
        return j

    def err(self, want, code, method, path, body=None, token=None,
            raw=None):
        """Expect an error: status want and error code code."""
        st, j, h = self.call(method, path, body, token, raw)
        if st != want:
            fail("%s %s: status %d, want %d: %s" % (method, path, st,
                                                    want, j))
        got = (j or {}).get("error", {}).get("code")
        if code is not None and got != code:
            fail("%s %s: error code %r, want %r: %s" % (method, path, got,
                                                        code, j))
        return j, h


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def forge(key_pem, header, claims):
    """A JWT over header and claims, signed with key_pem by openssl."""
    signing = (b64url(json.dumps(header).encode()) + "." +
               b64url(json.dumps(claims).encode()))
    # OpenSSL 3.0 signs Ed25519 (one-shot) only from a file.
    with tempfile.NamedTemporaryFile() as f:
        f.write(signing.encode())
        f.flush()
        sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey",
                              key_pem, "-rawin", "-in", f.name],
                             capture_output=True, check=True).stdout
    return signing + "." + b64url(sig)


def claims_of(token):
    return json.loads(unb64url(token.split(".")[1]))


def header_of(token):
    return json.loads(unb64url(token.split(".")[0]))


def pst(url, *req, raw=None):
    """One request straight to gs-persist's request socket (what a
    daemon sends): [status, body], decoded."""
    import msgpack
    data = raw if raw is not None else msgpack.packb(list(req))
    p = subprocess.run(["nngcat", "--req", "--dial", url, "--file", "-",
                        "--raw", "--recv-timeout", "10"], input=data,
                       capture_output=True)
    if not p.stdout:
        fail("no reply from gs-persist to %r: %s" % (req, p.stderr))
    return msgpack.unpackb(p.stdout, raw=False)


def pst_ok(url, *req):
    st, body = pst(url, *req)
    if st != 0:
        fail("%r: status %d: %s" % (req, st, body))
    return body
