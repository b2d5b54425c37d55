"""Where uploaded files live: one port, a filesystem adapter (the embedded default) and an S3-compatible
adapter (production). Shared because every service that takes uploads needs the same guarantees: keys made
by the server, the type judged by content, the size limit enforced while the upload streams in."""

from zc_storage.files import (
    AttachmentStorage,
    FileTooLarge,
    StoredFile,
    delete_after_commit,
    keep_upload,
    sniff,
)
from zc_storage.filesystem import FilesystemStorage
from zc_storage.s3 import S3Storage, storage_from_settings

__all__ = [
    "AttachmentStorage",
    "FileTooLarge",
    "FilesystemStorage",
    "S3Storage",
    "StoredFile",
    "delete_after_commit",
    "keep_upload",
    "sniff",
    "storage_from_settings",
]
