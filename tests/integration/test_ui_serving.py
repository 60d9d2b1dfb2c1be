"""The built UI as a browser gets it from a real server: hashed assets cached for good and
compressed, index.html revalidated, and nothing outside the assets directory reachable."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server

# Text that compresses as a real bundle does (repetitive, but not one byte over and over).
BUNDLE = "".join(f"function f{i}(a,b){{return a+b*{i}}};export{{f{i}}};\n" for i in range(800))


@pytest.fixture
def ui(tmp_path: Path) -> Path:
    ui = tmp_path / "ui"
    (ui / "assets").mkdir(parents=True)
    (ui / "index.html").write_text('<html><script src="/assets/index-abc123.js"></script></html>')
    (ui / "assets" / "index-abc123.js").write_text(BUNDLE)
    (ui / "assets" / "tiny-1.js").write_text("export{};")
    (ui / "assets" / "logo-2.png").write_bytes(os.urandom(4096))
    (tmp_path / "secret.txt").write_text("not for the browser")
    return ui


@dataclass
class Reply:
    status_code: int
    headers: httpx.Headers
    content: bytes  # as sent: still compressed when it was

    @property
    def text(self) -> str:
        gz = self.headers.get("content-encoding") == "gzip"
        return (gzip.decompress(self.content) if gz else self.content).decode()


def get(server: Server, path: str, **headers: str) -> Reply:
    with httpx.Client(base_url=server.url) as client:
        # A raw request: httpx neither normalises the path nor decodes the body.
        request = client.build_request("GET", path, headers=headers)
        request.url = request.url.copy_with(raw_path=path.encode())
        response = client.send(request, stream=True)
        body = b"".join(response.iter_raw())
        return Reply(response.status_code, response.headers, body)


def test_hashed_assets_are_compressed_and_cached_for_good(
    make_server: Callable[..., Server], ui: Path
) -> None:
    server = make_server(HYDRA_UI_DIR=ui)

    response = get(server, "/assets/index-abc123.js", **{"Accept-Encoding": "gzip, br"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(response.content).decode() == BUNDLE
    assert len(response.content) * 3 < len(BUNDLE.encode())  # what the browser downloads

    plain = get(server, "/assets/index-abc123.js", **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content.decode() == BUNDLE
    assert plain.headers["etag"] != response.headers["etag"]  # two bodies, two tags


def test_a_reload_revalidates_only_the_page(make_server: Callable[..., Server], ui: Path) -> None:
    server = make_server(HYDRA_UI_DIR=ui)
    first = get(server, "/assets/index-abc123.js", **{"Accept-Encoding": "gzip"})

    again = get(
        server,
        "/assets/index-abc123.js",
        **{"Accept-Encoding": "gzip", "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    for page in ("/", "/runs", "/jobs/abc"):
        response = get(server, page)
        assert response.status_code == 200 and "index-abc123.js" in response.text, page
        assert response.headers["cache-control"] == "no-cache", page


def test_small_and_binary_assets_go_as_they_are(
    make_server: Callable[..., Server], ui: Path
) -> None:
    server = make_server(HYDRA_UI_DIR=ui)
    tiny = get(server, "/assets/tiny-1.js", **{"Accept-Encoding": "gzip"})
    png = get(server, "/assets/logo-2.png", **{"Accept-Encoding": "gzip"})
    assert tiny.content == b"export{};" and "content-encoding" not in tiny.headers
    assert png.content == (ui / "assets" / "logo-2.png").read_bytes()
    assert "content-encoding" not in png.headers and "vary" not in png.headers
    assert png.headers["content-type"] == "image/png"


def test_a_rebuild_while_serving_is_served(make_server: Callable[..., Server], ui: Path) -> None:
    server = make_server(HYDRA_UI_DIR=ui)
    assert get(server, "/assets/index-new456.js").status_code == 404
    (ui / "assets" / "index-new456.js").write_text(BUNDLE)  # `npm run build` while `up` runs
    assert get(server, "/assets/index-new456.js").text == BUNDLE


def test_nothing_outside_the_assets_is_reachable(
    make_server: Callable[..., Server], ui: Path
) -> None:
    (ui / "assets" / "link.txt").symlink_to(ui.parent / "secret.txt")
    server = make_server(HYDRA_UI_DIR=ui)
    for path in (
        "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/link.txt",
        "/assets/",
        "/assets/%00.js",
    ):
        response = get(server, path)
        assert "not for the browser" not in response.text, path
        assert response.status_code == 404 or response.text.startswith("<html>"), path
    with httpx.Client(base_url=server.url) as client:
        assert client.post("/assets/index-abc123.js").status_code == 405
