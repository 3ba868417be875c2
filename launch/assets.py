"""Static files for phones on weak networks: content-hashed names, cached for a year, precompressed.

Every file under launch/static is copied once to the build folder (instance/static-build) under a
name that carries a hash of its content (js/scanner.js -> js/scanner.1a2b3c4d5e6f.js), with a brotli
(.br) and a gzip (.gz) copy beside it. `url_for('static', filename='js/scanner.js')` gives the
hashed address, so a page names exactly the version it was built with: a browser keeps such a file
for a year without asking again ("immutable"), and a changed file gets a new address, which no
cache (the browser's or the service worker's) can answer with the old content.

Served by WhiteNoise (a maintained WSGI static-file server, used in front of Flask here): it picks
the .br or .gz copy by Accept-Encoding (with Vary), answers conditional and range requests, and
marks hashed names immutable. Why not Flask-Compress: it compresses every response as it is sent
(brotli at quality 11 takes seconds for the 1 MB scanner library) and names nothing by content.
Why not Flask-Static-Digest: it writes the hashed copies into the source folder and serves no
precompressed copy itself (it leaves that to nginx), and a file changed after its `compile`
silently keeps the old hashed copy. Here the build runs when the app starts, is incremental (only a
new content is hashed and compressed: the first start compresses the library in about 5 s, later
starts only hash, in milliseconds) and writes each file atomically, so several processes can start
together. With the debugger on (development), a changed file is rebuilt when a page asks for it.

An address without a hash (/static/js/scanner.js) still works, revalidated on every use.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Flask
from whitenoise import WhiteNoise

#: `name.<12 hex>.ext`: the names the build gives; only these are cached as immutable.
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)?$")
#: Types worth compressing (images other than SVG and fonts are compressed already).
COMPRESSIBLE = {".js", ".css", ".wasm", ".svg", ".json", ".map", ".txt", ".html", ".md"}
#: Smaller files are sent as they are (the headers would outweigh the gain).
MIN_COMPRESS_BYTES = 1024
#: (path, size, mtime) -> content hash: a restart in the same process (tests) does not re-read files.
_digests: dict[tuple[str, int, int], str] = {}


def _digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    digest = _digests.get(key)
    if digest is None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        _digests[key] = digest
    return digest


def hashed_name(relative: str, digest: str) -> str:
    """`js/scanner.js` + digest -> `js/scanner.<digest>.js`."""
    head, dot, ext = relative.rpartition(".")
    if not dot or "/" in ext:
        return f"{relative}.{digest}"
    return f"{head}.{digest}.{ext}"


def _write_atomic(target: Path, data: bytes) -> None:
    """Write via a temporary file and rename: a reader (another process) never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _compressed(data: bytes, suffix: str) -> dict[str, bytes]:
    """The .br and .gz copies of `data`, each only if it is smaller."""
    if suffix not in COMPRESSIBLE or len(data) < MIN_COMPRESS_BYTES:
        return {}
    out = {".gz": gzip.compress(data, compresslevel=9, mtime=0)}
    try:
        import brotli
    except ImportError:  # pragma: no cover  (pinned in requirements.txt)
        pass
    else:
        out[".br"] = brotli.compress(data, quality=11)
    return {ext: body for ext, body in out.items() if len(body) < len(data)}


class Assets:
    """The hashed names of one app's static files, and the WhiteNoise server that sends them."""

    def __init__(self, source: Path, build: Path, *, watch: bool = False) -> None:
        self.source = source
        self.build = build
        self.watch = watch
        self.names: dict[str, str] = {}
        self.server = None  # WhiteNoise, set by init_app

    def build_one(self, relative: str) -> str:
        """Make sure the hashed copy (and its compressed copies) of one file exist; its hashed name."""
        path = self.source / relative
        name = hashed_name(relative, _digest(path))
        target = self.build / name
        if not target.exists():
            data = path.read_bytes()
            for ext, body in _compressed(data, path.suffix.lower()).items():
                _write_atomic(target.with_name(target.name + ext), body)
            _write_atomic(target, data)  # last: its presence means the copies are there too
        if self.names.get(relative) != name:
            self.names[relative] = name
            if self.server is not None:
                self.server.add_file_to_dictionary(f"/static/{name}", str(target))
        return name

    def build_all(self) -> dict[str, str]:
        """Hash (and on first sight compress) every file under the source folder."""
        for path in sorted(self.source.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                self.build_one(path.relative_to(self.source).as_posix())
        return self.names

    def url_name(self, relative: str) -> str:
        """The hashed name to put in a URL (rebuilt first when watching and the file changed)."""
        if self.watch and (self.source / relative).is_file():
            return self.build_one(relative)
        return self.names.get(relative, relative)

    @property
    def version(self) -> str:
        """One hash for the whole set: changes whenever any file does (the service worker's version)."""
        joined = "\n".join(f"{k}={v}" for k, v in sorted(self.names.items()))
        return hashlib.sha256(joined.encode()).hexdigest()[:12]


class StaticServer(WhiteNoise):
    """WhiteNoise, plus the app's security headers on each file (HSTS only over HTTPS)."""

    def serve(self, static_file, environ, start_response):  # noqa: ANN001, ANN201
        from launch.web.headers import security_headers_for

        secure = environ.get("wsgi.url_scheme") == "https"

        def with_headers(status, headers, exc_info=None):  # noqa: ANN001, ANN202
            names = {name.lower() for name, _value in headers}
            headers = list(headers) + [(n, v) for n, v in security_headers_for(secure) if n.lower() not in names]
            return start_response(status, headers, exc_info)

        return super().serve(static_file, environ, with_headers)


def init_app(app: Flask) -> Assets:
    """Build the hashed files, serve /static/ through WhiteNoise, make url_for('static') hash."""
    source = Path(app.static_folder or "")
    build = Path(app.config.get("STATIC_BUILD_DIR") or Path(app.instance_path) / "static-build")
    assets = Assets(source, build, watch=bool(app.debug))
    assets.build_all()
    server = StaticServer(app.wsgi_app, max_age=0, autorefresh=False, allow_all_origins=False,
                          mimetypes={".wasm": "application/wasm"},
                          immutable_file_test=lambda path, url: bool(HASHED_NAME.search(url)))
    server.add_files(str(source), "/static/")  # unhashed addresses: revalidated every time
    assets.server = server
    for name in assets.names.values():
        server.add_file_to_dictionary(f"/static/{name}", str(build / name))
    app.wsgi_app = server  # type: ignore[method-assign]
    app.extensions["launch_assets"] = assets

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = assets.url_name(values["filename"])

    return assets


def assets_of(app: Flask) -> Assets:
    """The app's Assets (built by init_app)."""
    return app.extensions["launch_assets"]
