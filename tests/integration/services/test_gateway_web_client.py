"""The dev gateway serves the built web client at /: its files as they are, and index.html for the single-page
app's deep links (/centre/applications after a reload), while a missing asset stays a 404."""

from __future__ import annotations

from pathlib import Path

import httpx

from zc_devstack.gateway import create_gateway


async def test_deep_links_get_the_app_and_missing_files_stay_missing(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<title>四川省职称评审系统</title>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)", encoding="utf-8")
    gateway = create_gateway({}, tmp_path)
    async with gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            for page in ("/", "/centre/applications", "/articles/0193a1f0-0000-7000-8000-0000000000aa"):
                r = await client.get(page)
                assert r.status_code == 200 and "四川省职称评审系统" in r.text, page
            asset = await client.get("/assets/index-abc.js")
            assert asset.status_code == 200 and asset.text == "console.log(1)"
            assert (await client.get("/assets/index-gone.js")).status_code == 404
