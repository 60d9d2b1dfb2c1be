"""The web UI's built files, served so that a browser downloads each once, compressed.

Vite names every file under `assets/` after a hash of its content, so a name never changes its
content: those are cached for a year (`immutable`, no revalidation on reload), and `index.html`,
which names them, is revalidated on every load (`no-cache`) so a new release shows at once.
Text assets go out gzip-compressed when the browser accepts it (the JavaScript shrinks about 3x);
each is read and compressed once, on its first request, and kept (the whole build is a few MB).
A name is served only when it resolves to a file inside the directory.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = {".js", ".mjs", ".css", ".svg", ".json", ".map", ".html", ".txt", ".wasm"}
MIN_COMPRESS = 1024  # bytes: smaller files gain less than the header costs


@dataclass(slots=True)
class Asset:
    data: bytes
    media_type: str
    etag: str
    text: bool  # worth compressing
    _gzipped: bytes | None = field(default=None, repr=False)

    @classmethod
    def read(cls, path: Path) -> Asset:
        data = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix in {".js", ".mjs"}:
            media_type = "text/javascript"
        etag = f'"{hashlib.sha256(data).hexdigest()[:20]}"'
        return cls(data, media_type, etag, path.suffix in COMPRESSIBLE)

    @property
    def compressible(self) -> bool:
        return self.text and len(self.data) >= MIN_COMPRESS

    def gzipped(self) -> bytes:
        if self._gzipped is None:  # a race compresses twice, with the same result
            self._gzipped = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gzipped


def file_inside(directory: Path, name: str) -> Path | None:
    """`directory/name` when that is a file inside `directory` (after links and `..`), else
    None; a NUL, which no file name has, is None too (resolving it raises)."""
    if not name or "\x00" in name:
        return None
    path = (directory / name).resolve()
    return path if path.is_relative_to(directory.resolve()) and path.is_file() else None


def accepts_gzip(headers: Headers) -> bool:
    encodings = headers.get("accept-encoding", "").split(",")
    return any(part.split(";")[0].strip() == "gzip" for part in encodings)


class UiAssets:
    """An ASGI app for `/assets`: the files of `directory`, each read on its first request (a
    file built while the server runs is served too)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.files: dict[str, Asset] = {}

    def find(self, name: str) -> Asset | None:
        asset = self.files.get(name)
        if asset is None and (path := file_inside(self.directory, name)) is not None:
            asset = self.files[name] = Asset.read(path)
        return asset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        name = (path.removeprefix(root) if root and path.startswith(root) else path).lstrip("/")
        asset = self.find(name)
        if scope["method"] not in ("GET", "HEAD") or asset is None:
            status = 405 if asset is not None else 404
            await Response(status_code=status)(scope, receive, send)
            return
        asked = Headers(scope=scope)
        gz = asset.compressible and accepts_gzip(asked)
        etag = asset.etag[:-1] + '-gz"' if gz else asset.etag
        headers = {"cache-control": IMMUTABLE, "etag": etag}
        if asset.text:
            headers["vary"] = "Accept-Encoding"
        if etag in (tag.strip() for tag in asked.get("if-none-match", "").split(",")):
            await Response(status_code=304, headers=headers)(scope, receive, send)
            return
        if gz:
            headers["content-encoding"] = "gzip"
            body = asset.gzipped()
        else:
            body = asset.data
        if scope["method"] == "HEAD":
            headers["content-length"] = str(len(body))
            body = b""
        await Response(body, media_type=asset.media_type, headers=headers)(scope, receive, send)
