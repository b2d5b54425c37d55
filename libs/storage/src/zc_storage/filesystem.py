"""The filesystem adapter (the embedded default). A file appears under its key only once complete: it is
written to a temporary name, then renamed."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from zc_storage.files import Meter, StoredFile, new_key, valid_key

CHUNK = 64 * 1024


class FilesystemStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise ValueError("bad storage key")
        return self._root / key

    async def put(self, stream: AsyncIterator[bytes], *, max_bytes: int) -> StoredFile:
        key = new_key()
        final = self._path(key)
        await anyio.Path(final.parent).mkdir(parents=True, exist_ok=True)
        tmp = final.with_suffix(".part")
        meter = Meter(max_bytes)
        try:
            async with await anyio.open_file(tmp, "wb") as out:
                async for chunk in stream:
                    meter.feed(chunk)
                    await out.write(chunk)
            await anyio.to_thread.run_sync(os.replace, tmp, final)
        finally:
            if await anyio.Path(tmp).exists():
                await anyio.Path(tmp).unlink()
        return meter.stored(key)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as f:
            while chunk := await f.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        path = anyio.Path(self._path(key))
        if await path.exists():
            await path.unlink()
