"""Every limit on an upload, checked here and named by its config key: the streaming parser
(multipart), the upload service and the archive reader ask UploadLimits, never the settings.
(Intake's own check of a file's bytes is the last guard for every way in, uploads and URL
downloads alike, with the Limit each caller gives it.)"""

from dataclasses import dataclass

from ingestapi.archive import is_zip
from ingestapi.settings import IngestSettings
from shared.config import Limit
from shared.errors import PayloadTooLarge


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: Limit  # one file, and each file an archive holds
    max_archive_bytes: Limit  # one archive as sent, and all it expands to
    max_files: Limit  # the files of a request, an archive's members counted one by one
    max_form_fields: Limit  # text fields of a request
    max_form_field_bytes: Limit  # one text field
    max_form_bytes: Limit  # all text fields of a request together

    @classmethod
    def of(cls, settings: IngestSettings) -> "UploadLimits":
        return cls(
            Limit(settings.max_bytes, "ingest.max_bytes"),
            Limit(settings.max_archive_bytes, "ingest.max_archive_bytes"),
            Limit(settings.max_files, "ingest.max_files"),
            Limit(settings.max_form_fields, "ingest.max_form_fields"),
            Limit(settings.max_form_field_bytes, "ingest.max_form_field_bytes"),
            Limit(settings.max_form_bytes, "ingest.max_form_bytes"),
        )

    def check_files(self, count: int) -> None:
        if count > self.max_files.value:
            raise PayloadTooLarge(f"at most {self.max_files.value} files per request")

    def check_fields(self, count: int) -> None:
        if count > self.max_form_fields.value:
            raise PayloadTooLarge(
                f"at most {self.max_form_fields.value} text fields per request "
                f"({self.max_form_fields.key})"
            )

    def check_field_bytes(self, name: str, field_bytes: int, form_bytes: int) -> None:
        """One text field as read so far, and all text fields of the request so far."""
        if field_bytes > self.max_form_field_bytes.value:
            limit = self.max_form_field_bytes
            raise PayloadTooLarge(f"form field {name!r} is over {limit.value} bytes ({limit.key})")
        if form_bytes > self.max_form_bytes.value:
            limit = self.max_form_bytes
            raise PayloadTooLarge(
                f"the text fields are over {limit.value} bytes together ({limit.key})"
            )

    def files_left(self, taken: int) -> int:
        return self.max_files.value - taken

    def while_streaming(self, head: bytes) -> Limit:
        """What a file is cut off at as it arrives, from its first bytes."""
        return self.max_archive_bytes if is_zip(head) else self.max_bytes

    @staticmethod
    def cut_off(limit: Limit) -> PayloadTooLarge:
        """The refusal of a file cut off at ``limit`` while it streamed."""
        return PayloadTooLarge(f"larger than {limit.value} bytes ({limit.key})")

    def check_members(self, count: int, left: int) -> None:
        """An archive of ``count`` files, with ``left`` files of the request still allowed."""
        if count > left:
            raise PayloadTooLarge(f"archive holds {count} files, over the limit of {left}")

    def member_refusal(self, declared_bytes: int) -> PayloadTooLarge | None:
        limit = self.max_bytes
        if declared_bytes > limit.value:
            return PayloadTooLarge(f"member is larger than {limit.value} bytes ({limit.key})")
        return None

    def expanded_refusal(self, member_bytes: int, archive_bytes: int) -> PayloadTooLarge | None:
        """A member as read (its header may lie), and all the archive expanded to so far."""
        if member_bytes > self.max_bytes.value:
            return PayloadTooLarge(f"expands past {self.max_bytes.value} bytes (zip bomb)")
        if archive_bytes > self.max_archive_bytes.value:
            return PayloadTooLarge(f"archive expands past {self.max_archive_bytes.value} bytes")
        return None

    def in_request(self, exc: PayloadTooLarge, left: int) -> PayloadTooLarge:
        """An archive refused for its size, named against what the request had left."""
        if left < self.max_files.value:
            return PayloadTooLarge(f"{exc.detail} left of {self.max_files.key} in this request")
        return exc
