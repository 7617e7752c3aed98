"""Bulk upload: `uv run ingest PATH... [--api URL]`.

Walks the folders, hashes every image file, asks the API in one call which hashes it already
has, uploads the rest in batches over N concurrent requests (retrying 503/429 after their
Retry-After, and dropped connections), shows a progress bar and prints a summary. Exit status 1
when any file was rejected or could not be sent.
"""

import argparse
import asyncio
import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tqdm import tqdm

CHECK_CHUNK = 5000
RETRY_STATUSES = {429, 502, 503, 504}
MAX_BACKOFF_S = 60.0


@dataclass(frozen=True)
class LocalFile:
    path: Path
    size: int
    sha256: str


@dataclass
class Summary:
    found: int = 0
    skipped_suffix: int = 0
    already_stored: int = 0
    same_bytes_locally: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    job_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed

    def lines(self) -> list[str]:
        out = [
            f"found {self.found} image files ({self.skipped_suffix} other files skipped)",
            f"already stored {self.already_stored}, same bytes as another file here "
            f"{self.same_bytes_locally}",
            f"accepted {self.accepted}, duplicate {self.duplicate}, "
            f"rejected {len(self.rejected)}, failed to send {len(self.failed)}",
        ]
        out += [f"  rejected {path}: {reason}" for path, reason in sorted(self.rejected.items())]
        out += [f"  failed {path}: {reason}" for path, reason in sorted(self.failed.items())]
        return out


def walk(paths: Sequence[Path], suffixes: set[str], summary: Summary) -> list[Path]:
    found: list[Path] = []
    for root in paths:
        candidates = [root] if root.is_file() else _files_under(root)
        for path in candidates:
            if path.suffix.lower() in suffixes:
                found.append(path)
            else:
                summary.skipped_suffix += 1
    summary.found = len(found)
    return sorted(set(found))


def _files_under(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(folder) / f for f in sorted(files) if not f.startswith("."))


def sha256_of(path: Path) -> LocalFile:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return LocalFile(path, path.stat().st_size, digest.hexdigest())


class Uploader:
    def __init__(self, client: httpx.AsyncClient, args: argparse.Namespace, bar: tqdm) -> None:  # type: ignore[type-arg]
        self._client = client
        self._args = args
        self._bar = bar
        self._slots = asyncio.Semaphore(args.concurrency)

    async def suffixes(self) -> set[str]:
        """The file suffixes of the formats the server takes (its own format table)."""
        response = await self._send("GET", "/api/v1/images/formats")
        response.raise_for_status()
        return {s.lower() for f in response.json()["formats"] for s in f["suffixes"]}

    async def known(self, ids: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(ids), CHECK_CHUNK):
            body = {"ids": ids[start : start + CHECK_CHUNK]}
            response = await self._send("POST", "/api/v1/images/check", json=body)
            response.raise_for_status()
            known.update(response.json()["known"])
        return known

    async def upload(self, batch: list[LocalFile], summary: Summary) -> None:
        async with self._slots:
            files = [
                ("files", (f.path.name, await asyncio.to_thread(f.path.read_bytes))) for f in batch
            ]
            data = {"source": self._args.source}
            if self._args.caption:
                data["caption"] = self._args.caption
            if self._args.tags:
                data["tags"] = self._args.tags
            try:
                response = await self._send("POST", "/api/v1/images", files=files, data=data)
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                for f in batch:
                    summary.failed[str(f.path)] = f"could not send: {exc!r}"
            else:
                self._tally(batch, response.status_code, body, summary)
            self._bar.update(sum(f.size for f in batch))
            self._bar.set_postfix_str(f"{summary.accepted + summary.duplicate} files sent")

    @staticmethod
    def _tally(
        batch: list[LocalFile], status: int, body: dict[str, object], summary: Summary
    ) -> None:
        items = body.get("items")
        if not isinstance(items, list) or len(items) != len(batch):
            for f in batch:
                summary.failed[str(f.path)] = f"HTTP {status}: {body.get('detail')}"
            return
        if body.get("job_id"):
            summary.job_ids.append(str(body["job_id"]))
        for f, item in zip(batch, items, strict=True):
            if item["status"] == "accepted":
                summary.accepted += 1
            elif item["status"] == "duplicate":
                summary.duplicate += 1
            else:
                summary.rejected[str(f.path)] = f"{item['http_status']} {item['reason']}"

    async def _send(self, method: str, url: str, **kw: object) -> httpx.Response:
        """Retry what is worth retrying: 503/429 after their Retry-After, and lost
        connections with exponential backoff."""
        for attempt in range(self._args.retries + 1):
            last = attempt == self._args.retries
            try:
                response = await self._client.request(method, url, **kw)  # type: ignore[arg-type]
            except httpx.TransportError:
                if last:
                    raise
                await asyncio.sleep(min(MAX_BACKOFF_S, 0.5 * 2.0**attempt))
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            await asyncio.sleep(_retry_after(response, attempt))
        raise AssertionError("unreachable")


def _retry_after(response: httpx.Response, attempt: int) -> float:
    try:
        return min(MAX_BACKOFF_S, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return min(MAX_BACKOFF_S, 0.5 * 2.0**attempt)


def batches(files: list[LocalFile], max_files: int, max_bytes: int) -> Iterator[list[LocalFile]]:
    batch: list[LocalFile] = []
    size = 0
    for f in files:
        if batch and (len(batch) >= max_files or size + f.size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        yield batch


async def run(
    args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None = None
) -> Summary:
    summary = Summary()
    timeout = httpx.Timeout(args.timeout, connect=10)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    async with httpx.AsyncClient(
        base_url=args.api, timeout=timeout, headers=headers, transport=transport
    ) as client:
        with tqdm(total=0, unit="B", unit_scale=True, desc="uploading", disable=args.quiet) as bar:
            uploader = Uploader(client, args, bar)
            paths = walk(args.paths, await uploader.suffixes(), summary)
            unique = await asyncio.to_thread(_hash_all, paths, summary, args.quiet)
            known = await uploader.known(list(unique))
            summary.already_stored = len(known)
            todo = [f for f in unique.values() if f.sha256 not in known]
            bar.reset(total=sum(f.size for f in todo))
            await asyncio.gather(
                *(
                    uploader.upload(batch, summary)
                    for batch in batches(todo, args.batch_files, args.batch_mb * 1024 * 1024)
                )
            )
    return summary


def _hash_all(paths: list[Path], summary: Summary, quiet: bool) -> dict[str, LocalFile]:
    """Each distinct content once (by sha256), in path order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashed = list(
            tqdm(
                pool.map(sha256_of, paths),
                total=len(paths),
                desc="hashing",
                unit="file",
                disable=quiet,
            )
        )
    unique: dict[str, LocalFile] = {}
    for f in hashed:
        if f.sha256 in unique:
            summary.same_bytes_locally += 1
        else:
            unique[f.sha256] = f
    return unique


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders")
    parser.add_argument(
        "--api",
        default=os.environ.get("IMAGESEARCH_URL", "http://127.0.0.1:8080"),
        help="where the page and APIs are (nginx), or ingestapi itself (env IMAGESEARCH_URL)",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("IMAGESEARCH_API_KEY"),
        help="sent as a bearer token when the server has keys (env IMAGESEARCH_API_KEY; the "
        "environment keeps it out of the process list)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="requests at once")
    parser.add_argument("--batch-files", type=int, default=16, help="files per request")
    parser.add_argument("--batch-mb", type=int, default=64, help="MB per request at most")
    parser.add_argument("--retries", type=int, default=8, help="per request, on 503/429/drops")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per request")
    parser.add_argument("--caption", default="", help="for every file")
    parser.add_argument("--tags", default="", help="comma-separated, for every file")
    parser.add_argument("--source", default="cli", help="recorded with every file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"ingest: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(run(args))
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 401:
            print(
                f"ingest: the API at {args.api} wants a key: --api-key or IMAGESEARCH_API_KEY",
                file=sys.stderr,
            )
        else:
            print(f"ingest: the API at {args.api} answered {exc!r}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"ingest: the API at {args.api} did not answer: {exc!r}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
