import io
import struct
import zipfile

import pytest

from ingestapi.archive import members
from ingestapi.settings import IngestSettings
from ingestapi.upload_limits import UploadLimits
from shared.errors import PayloadTooLarge

LIMITS = UploadLimits.of(IngestSettings(max_bytes=10**6, max_archive_bytes=10**8, max_files=1000))

EOCD = b"PK\x05\x06"


def end_record(entries: int, directory_bytes: int, directory_at: int) -> bytes:
    return EOCD + struct.pack("<HHHHIIH", 0, 0, entries, entries, directory_bytes, directory_at, 0)


def zip64_end(entries: int, directory_bytes: int, at: int) -> bytes:
    record = b"PK\x06\x06" + struct.pack(
        "<QHHIIQQQQ", 44, 45, 45, 0, 0, entries, entries, directory_bytes, 0
    )
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, at, 1)
    return record + locator + end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)


class CountingReads(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk


def take(data: bytes, max_members: int = 1000) -> list[str]:
    return [m.name for m in members("a.zip", io.BytesIO(data), LIMITS, max_members)]


def test_a_million_entries_are_refused_from_the_end_record_alone() -> None:
    # a zip64 end record announcing a million entries over a 60 MB directory (not even there)
    source = CountingReads(b"\0" * 1000 + zip64_end(1_000_000, 60_000_000, 1000))
    with pytest.raises(PayloadTooLarge, match="holds 1000000 files, over the limit of 1000"):
        list(members("a.zip", source, LIMITS, 1000))
    assert source.read_bytes < 70_000  # the tail only: the directory was never read


def test_a_directory_too_large_for_its_stated_count_is_refused() -> None:
    # the end record says 3 entries, but the directory it points at is 50 MB
    with pytest.raises(PayloadTooLarge, match="directory is 50000000 bytes"):
        take(b"\0" * 100 + end_record(3, 50_000_000, 0))


def test_real_archives_pass_the_end_record_check() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(5):
            archive.writestr(f"{'long-name-' * 20}{i}.png", b"x")
        archive.comment = b"a comment after the end record"
    assert len(take(out.getvalue(), max_members=5)) == 5
    with pytest.raises(PayloadTooLarge, match="holds 5 files, over the limit of 4"):
        take(out.getvalue(), max_members=4)
