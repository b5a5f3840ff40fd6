"""A local stand-in for the Hugging Face Hub's file endpoints, for download tests.

Serves GET/HEAD {endpoint}/{repo}/resolve/{revision}/{file} the way the Hub does: small files
directly with X-Repo-Commit and a git-sha1 ETag; LFS files as a 302 to a CDN location on another
host name (localhost instead of 127.0.0.1) with X-Linked-Etag (sha256) and X-Linked-Size; 404 with
X-Error-Code EntryNotFound / RevisionNotFound; 401 for private repositories without the token.
Range requests are honoured. Every request is logged, and transfers can be cut short on purpose.
"""

import hashlib
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    def __init__(self):
        self.repos = {}
        self.log = []  # (method, path, headers)
        self.cut_after = {}  # path -> bytes sent before the connection is dropped, used once
        self.ignore_range = False
        self._server = None

    def add_repo(self, repo, files, commit="a" * 40, branch="main", token=None, lfs=()):
        self.repos[repo] = {"commit": commit, "branches": {branch: commit}, "files": dict(files),
                            "token": token, "lfs": set(lfs)}

    def start(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._handle(self, body=False)

            def do_GET(self):
                hub._handle(self, body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def requests(self, method=None, prefix=""):
        return [r for r in self.log if (method is None or r[0] == method) and r[1].startswith(prefix)]

    # ---- responses ----
    def _handle(self, h, body):
        self.log.append((h.command, h.path, dict(h.headers)))
        path = urllib.parse.urlsplit(h.path).path
        if path.startswith("/cdn/"):
            return self._serve_cdn(h, path, body)
        if "/resolve/" not in path:
            return self._reply(h, 404, {}, b"", body)
        repo, rest = path.lstrip("/").split("/resolve/", 1)
        revision, _, filename = rest.partition("/")
        revision = urllib.parse.unquote(revision)
        filename = urllib.parse.unquote(filename)
        info = self.repos.get(repo)
        if info is None or (info["token"] and h.headers.get("Authorization") != f"Bearer {info['token']}"):
            return self._reply(h, 401, {"X-Error-Code": "RepoNotFound",
                                        "X-Error-Message": "Invalid username or password."}, b"", body)
        commit = info["branches"].get(revision, revision if revision == info["commit"] else None)
        if commit is None:
            return self._reply(h, 404, {"X-Error-Code": "RevisionNotFound",
                                        "X-Error-Message": "Invalid rev id: " + revision}, b"", body)
        data = info["files"].get(filename)
        if data is None:
            return self._reply(h, 404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit,
                                        "X-Error-Message": "Entry not found"}, b"", body)
        if filename in info["lfs"]:
            sha = hashlib.sha256(data).hexdigest()
            return self._reply(h, 302, {"Location": f"http://localhost:{self.port}/cdn/{sha}",
                                        "X-Repo-Commit": commit, "X-Linked-Etag": f'"{sha}"',
                                        "X-Linked-Size": str(len(data))}, b"", body)
        self._serve_data(h, data, {"X-Repo-Commit": commit, "ETag": f'"{git_blob_sha1(data)}"'}, body)

    def _serve_cdn(self, h, path, body):
        sha = path[len("/cdn/"):]
        for info in self.repos.values():
            for data in info["files"].values():
                if hashlib.sha256(data).hexdigest() == sha:
                    return self._serve_data(h, data, {"ETag": f'"{sha}"'}, body)
        self._reply(h, 404, {}, b"", body)

    def _serve_data(self, h, data, headers, body):
        start = 0
        status = 200
        requested = h.headers.get("Range")
        if requested and not self.ignore_range:
            start = int(requested.split("=")[1].split("-")[0])
            if start >= len(data):
                return self._reply(h, 416, {"Content-Range": f"bytes */{len(data)}"}, b"", body)
            status = 206
            headers = dict(headers, **{"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        payload = data[start:]
        cut = self.cut_after.pop(h.path, None) if body else None
        if cut is None:
            return self._reply(h, status, headers, payload, body)
        # Promise the whole payload, send part of it, then drop the connection.
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload[:cut])
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(2)

    def _reply(self, h, status, headers, payload, body):
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if body:
            h.wfile.write(payload)
