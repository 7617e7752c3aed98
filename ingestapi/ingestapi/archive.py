"""Zip uploads: every member is an upload of its own, validated like any other file.

Zip bombs: a member is read at most ``max_bytes`` + 1 (a lying header cannot make it larger),
the whole archive at most ``max_total`` expanded bytes, archives inside archives are not opened.
Path tricks: absolute paths, '..' and symlinks are refused (nothing is written to disk anyway).
"""

import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from shared.errors import AppError, BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType

_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_JUNK_PREFIXES = ("__MACOSX/",)


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes = b""
    error: AppError | None = None


def is_zip(head: bytes) -> bool:
    return head[:4] in _MAGIC


def members(
    archive_name: str, source: IO[bytes], max_bytes: int, max_members: int, max_total: int
) -> Iterator[Member]:
    """The archive's files in order, read one at a time from a seekable file; a problem with
    the archive as a whole raises."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Unprocessable("corrupt zip archive") from exc
    infos = [i for i in archive.infolist() if not i.is_dir() and not _is_junk(i.filename)]
    if len(infos) > max_members:
        raise PayloadTooLarge(f"archive holds {len(infos)} files, over the limit of {max_members}")
    expanded = 0
    for info in infos:
        name = f"{archive_name}/{info.filename}"
        if problem := _refusal(info, max_bytes):
            yield Member(name, error=problem)
            continue
        try:
            with archive.open(info) as member:
                content = member.read(max_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            yield Member(name, error=Unprocessable(f"corrupt archive member: {exc}"))
            continue
        except NotImplementedError as exc:
            yield Member(name, error=UnsupportedMediaType(f"unsupported compression: {exc}"))
            continue
        expanded += len(content)
        if len(content) > max_bytes:
            yield Member(name, error=PayloadTooLarge(f"expands past {max_bytes} bytes (zip bomb)"))
        elif expanded > max_total:
            yield Member(name, error=PayloadTooLarge(f"archive expands past {max_total} bytes"))
            return
        elif is_zip(content):
            yield Member(
                name, error=UnsupportedMediaType("archives inside archives are not opened")
            )
        else:
            yield Member(name, content)


def _refusal(info: zipfile.ZipInfo, max_bytes: int) -> AppError | None:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in info.filename:
        return BadRequest("unsafe path in archive (absolute, '..' or a drive)")
    if stat.S_ISLNK(info.external_attr >> 16):
        return BadRequest("symbolic links in archives are refused")
    if info.flag_bits & 0x1:
        return UnsupportedMediaType("encrypted archive member")
    if info.file_size > max_bytes:
        return PayloadTooLarge(f"member is larger than {max_bytes} bytes (ingest.max_bytes)")
    return None


def _is_junk(name: str) -> bool:
    """macOS resource forks that Finder adds to every archive."""
    return name.startswith(_JUNK_PREFIXES) or PurePosixPath(name).name.startswith("._")
