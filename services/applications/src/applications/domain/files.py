"""Domain: what an uploaded file is, judged by its content (magic bytes), never by its name."""

from __future__ import annotations

from applications.domain.errors import DomainError

PHOTO_MAX_BYTES = 500 * 1024  # 照片大小不能超过 500KB (Fig. 2.2.5)
ACCEPTED = {
    "image": {"image/jpeg", "image/png"},
    "pdf": {"application/pdf"},
    "any": {"image/jpeg", "image/png", "application/pdf"},
}
TYPE_NAMES = {"image": "图片（JPG、PNG）", "pdf": "PDF 文件", "any": "图片或 PDF 文件"}


class FileRejectedError(DomainError):
    code = "attachment.rejected"
    status_hint = 422


class FileTooLargeError(DomainError):
    code = "attachment.too_large"
    status_hint = 413


def check_photo(content_type: str | None) -> None:
    if content_type != "image/jpeg":
        raise FileRejectedError("照片须为 JPG/JPEG 格式（按文件内容判断）", field="photo")


def check_material(content_type: str | None, expected: str, material: str) -> None:
    if content_type not in ACCEPTED.get(expected, set()):
        raise FileRejectedError(f"“{material}”须上传{TYPE_NAMES.get(expected, '规定格式的文件')}", field="file")
