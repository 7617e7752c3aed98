"""Streaming multipart reader: each file is spooled as it arrives (memory, then disk past
1 MB, or as soon as the request holds REQUEST_MEMORY_BYTES in memory: 500 parts of 1 MB stay
on disk) and cut off at its limit while streaming (UploadLimits.while_streaming:
ingest.max_bytes; ingest.max_archive_bytes for a zip), so an oversized file is rejected on its
own without ever being held whole; the other files of the request are unaffected. Text fields
are capped in number, each and together (ingest.max_form_fields, .max_form_field_bytes,
.max_form_bytes) as they arrive: the request is refused at the first byte over. Parsing and
spooling run in the thread pool, off the event loop."""

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO

from fastapi.concurrency import run_in_threadpool
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ingestapi.upload_limits import UploadLimits
from shared.config import Limit
from shared.errors import BadRequest, UnsupportedMediaType

SPOOL_IN_MEMORY = 1024 * 1024
REQUEST_MEMORY_BYTES = 16 * 1024 * 1024


@dataclass
class ReceivedFile:
    filename: str
    spool: "tempfile.SpooledTemporaryFile[bytes]"
    size: int = 0
    limit: Limit | None = None  # chosen by the first bytes: a zip may be larger than an image
    too_large: bool = False

    @property
    def over_limit(self) -> Limit | None:
        """The limit this file was cut off at, if it was."""
        return self.limit if self.too_large else None

    def open(self) -> IO[bytes]:
        self.spool.seek(0)
        return self.spool


@dataclass
class ReceivedForm:
    files: list[ReceivedFile] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def close(self) -> None:
        for f in self.files:
            f.spool.close()


class _Collector:
    """python-multipart callbacks: route each part's bytes to a spool or a text field."""

    def __init__(self, limits: UploadLimits) -> None:
        self.form = ReceivedForm()
        self._limits = limits
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._file: ReceivedFile | None = None
        self._field: tuple[str, bytearray] | None = None
        self._in_memory = 0  # bytes of this request's spools not yet on disk
        self._fields = 0
        self._field_bytes = 0  # of every text field so far

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._file, self._field = None, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            self._limits.check_files(len(self.form.files) + 1)
            filename = options[b"filename"].decode("utf-8", "replace") or "upload"
            # closed by ReceivedForm.close once the request is done
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
            self._file = ReceivedFile(filename.replace("\\", "/").rsplit("/", 1)[-1], spool)
            self.form.files.append(self._file)
        else:
            self._fields += 1
            self._limits.check_fields(self._fields)
            self._field = (name, bytearray())

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            f = self._file
            if f.limit is None:
                f.limit = self._limits.while_streaming(data[start:end])
            f.size += end - start
            if f.too_large:
                return
            if f.size > f.limit.value:
                f.too_large = True  # the rest of this part is read and dropped
                self._forget(f)
                f.spool.truncate(0)
                return
            self._spool(f, data[start:end])
        elif self._field is not None:
            name, buffer = self._field
            buffer += data[start:end]
            self._field_bytes += end - start
            self._limits.check_field_bytes(name, len(buffer), self._field_bytes)

    def _spool(self, f: ReceivedFile, chunk: bytes) -> None:
        if on_disk(f.spool):
            f.spool.write(chunk)
            return
        if self._in_memory + len(chunk) > REQUEST_MEMORY_BYTES:
            f.spool.rollover()
            self._in_memory -= f.size - len(chunk)
            f.spool.write(chunk)
            return
        f.spool.write(chunk)
        if on_disk(f.spool):  # past its own SPOOL_IN_MEMORY
            self._in_memory -= f.size - len(chunk)
        else:
            self._in_memory += len(chunk)

    def _forget(self, f: ReceivedFile) -> None:
        if not on_disk(f.spool):
            self._in_memory -= f.spool.tell()

    def _part_end(self) -> None:
        if self._field is not None:
            name, buffer = self._field
            self.form.fields.setdefault(name, []).append(buffer.decode("utf-8", "replace"))
        self._file, self._field = None, None


def on_disk(spool: "tempfile.SpooledTemporaryFile[bytes]") -> bool:
    return bool(getattr(spool, "_rolled", True))


async def read_multipart(
    content_type: str | None,
    body: AsyncIterator[bytes],
    limits: UploadLimits,
) -> ReceivedForm:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise UnsupportedMediaType("send multipart/form-data with the images in field 'files'")
    collector = _Collector(limits)
    parser = MultipartParser(options[b"boundary"], collector.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in body:
            await run_in_threadpool(parser.write, chunk)
        parser.finalize()
    except MultipartParseError as exc:
        collector.form.close()
        raise BadRequest(f"malformed multipart body: {exc}") from exc
    except BaseException:
        collector.form.close()
        raise
    return collector.form
