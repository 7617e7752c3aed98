"""Zip uploads: every member is an upload of its own, validated like any other file.

Zip bombs: a member is read at most ingest.max_bytes + 1 (a lying header cannot make it
larger), the whole archive at most ingest.max_archive_bytes expanded bytes (the limits are
checked by ingestapi.upload_limits), archives inside archives are not opened.
Path tricks: absolute paths, '..' and symlinks are refused (nothing is written to disk anyway).
Directory bombs: the entry count and the central directory's size are read from the end record
and refused before the directory is parsed (a million entries cost 360 MB to parse).
"""

import io
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING

from shared.errors import AppError, BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType

if TYPE_CHECKING:
    from ingestapi.upload_limits import UploadLimits

_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_END = b"PK\x05\x06"  # end of central directory record
_END_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
# a directory entry is 46 bytes plus its name, extra field and comment: 1 KiB each is generous
DIRECTORY_BYTES_PER_MEMBER = 1024
_JUNK_PREFIXES = ("__MACOSX/",)


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes = b""
    error: AppError | None = None


def is_zip(head: bytes) -> bool:
    return head[:4] in _MAGIC


def members(
    archive_name: str, source: IO[bytes], limits: "UploadLimits", max_members: int
) -> Iterator[Member]:
    """The archive's files in order, read one at a time from a seekable file; a problem with
    the archive as a whole raises. ``max_members``: the files the request has left."""
    entries, directory_bytes = _directory_size(source)
    limits.check_members(entries, max_members)
    if directory_bytes > (max_members + 1) * DIRECTORY_BYTES_PER_MEMBER:
        raise PayloadTooLarge(
            f"archive's directory is {directory_bytes} bytes, too large for {max_members} files"
        )
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Unprocessable("corrupt zip archive") from exc
    infos = [i for i in archive.infolist() if not i.is_dir() and not _is_junk(i.filename)]
    limits.check_members(len(infos), max_members)
    expanded = 0
    for info in infos:
        name = f"{archive_name}/{info.filename}"
        if problem := _refusal(info) or limits.member_refusal(info.file_size):
            yield Member(name, error=problem)
            continue
        try:
            with archive.open(info) as member:
                content = member.read(limits.max_bytes.value + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            yield Member(name, error=Unprocessable(f"corrupt archive member: {exc}"))
            continue
        except NotImplementedError as exc:
            yield Member(name, error=UnsupportedMediaType(f"unsupported compression: {exc}"))
            continue
        expanded += len(content)
        if too_large := limits.expanded_refusal(len(content), expanded):
            yield Member(name, error=too_large)
            if expanded > limits.max_archive_bytes.value:
                return
        elif is_zip(content):
            yield Member(
                name, error=UnsupportedMediaType("archives inside archives are not opened")
            )
        else:
            yield Member(name, content)


def _directory_size(source: IO[bytes]) -> tuple[int, int]:
    """(entries, central directory bytes) as the end record states them; the zip64 record's
    when the plain one says so. Reads at most the last 64 KiB + 22 bytes."""
    size = source.seek(0, io.SEEK_END)
    tail_start = max(0, size - _END_SIZE - 0xFFFF)
    source.seek(tail_start)
    tail = source.read()
    at = _end_record_at(tail)
    entries, directory_bytes = struct.unpack("<2xHI", tail[at + 8 : at + 16])
    if entries != 0xFFFF and directory_bytes != 0xFFFFFFFF:
        return entries, directory_bytes
    locator = tail[at - 20 : at] if at >= 20 else b""
    if not locator.startswith(_ZIP64_LOCATOR):
        return entries, directory_bytes
    (record_at,) = struct.unpack("<Q", locator[8:16])
    source.seek(record_at)
    record = source.read(56)
    if len(record) < 56 or not record.startswith(_ZIP64_END):
        raise Unprocessable("corrupt zip archive: bad zip64 end record")
    entries64, directory_bytes64 = struct.unpack("<QQ", record[32:48])
    return entries64, directory_bytes64


def _end_record_at(tail: bytes) -> int:
    """The last end record whose comment runs exactly to the end (a comment may hold the
    signature too); else the last signature at all."""
    last = -1
    end = len(tail)
    while (at := tail.rfind(_END, 0, end)) >= 0:
        if len(tail) - at >= _END_SIZE:
            (comment,) = struct.unpack("<H", tail[at + 20 : at + 22])
            if at + _END_SIZE + comment == len(tail):
                return at
            last = max(last, at)
        end = at
    if last < 0:
        raise Unprocessable("corrupt zip archive: no end of central directory")
    return last


def _refusal(info: zipfile.ZipInfo) -> AppError | None:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in info.filename:
        return BadRequest("unsafe path in archive (absolute, '..' or a drive)")
    if stat.S_ISLNK(info.external_attr >> 16):
        return BadRequest("symbolic links in archives are refused")
    if info.flag_bits & 0x1:
        return UnsupportedMediaType("encrypted archive member")
    return None


def _is_junk(name: str) -> bool:
    """macOS resource forks that Finder adds to every archive."""
    return name.startswith(_JUNK_PREFIXES) or PurePosixPath(name).name.startswith("._")
