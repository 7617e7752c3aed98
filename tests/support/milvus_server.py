"""A real Milvus standalone server (PyPI's `milvus` package, installed by `make test-milvus`
into .tools/milvus-server) on free ports with a fresh data folder, for the conformance lane."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from pymilvus import MilvusClient

from tests.support.paths import ROOT
from tests.support.polling import eventually
from tests.support.ports import free_ports

MILVUS_SERVER = ROOT / ".tools" / "milvus-server" / "bin" / "milvus-server"
# every internal port of the standalone server, so it never meets another Milvus or etcd
PORT_FLAGS = [
    "--etcd-port",
    "--root-coord-port",
    "--proxy-internal-port",
    "--query-coord-port",
    "--query-node-port",
    "--index-coord-port",
    "--index-node-port",
    "--data-coord-port",
    "--data-node-port",
]
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30
# the embedded etcd's peer port: fixed in the package, so one server at a time on a machine
ETCD_PEER_PORT = 2380


class MilvusServer:
    def __init__(self, run_dir: Path) -> None:
        if not MILVUS_SERVER.exists():
            raise RuntimeError(f"{MILVUS_SERVER} is missing: run `make test-milvus`")
        if not _port_free(ETCD_PEER_PORT):
            raise RuntimeError(
                f"port {ETCD_PEER_PORT} is taken (another Milvus or etcd runs here): "
                "the packaged server's embedded etcd needs it"
            )
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        self.run_dir = run_dir
        ports = free_ports(len(PORT_FLAGS) + 1)
        self.port = ports[0]
        argv = [str(MILVUS_SERVER), "--data", str(run_dir / "data"), "--proxy-port", str(ports[0])]
        for flag, port in zip(PORT_FLAGS, ports[1:], strict=True):
            argv += [flag, str(port)]
        self.log = run_dir / "milvus-server.log"
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> str:
        """The server's version once it answers."""

        server_log = self.run_dir / "data" / "logs" / "milvus-stdout.log"

        def version() -> str | None:
            # the wrapper outlives a server that failed to start: its log says so
            if self._proc.poll() is not None or (
                server_log.exists() and "failed to init" in server_log.read_text(errors="replace")
            ):
                raise RuntimeError(f"milvus-server did not start: see {server_log}")
            try:
                client = MilvusClient(uri=self.uri, timeout=2)
            except Exception:
                return None
            try:
                return str(client.get_server_version())
            finally:
                client.close()

        return eventually(version, START_TIMEOUT_S, "milvus-server answering", interval_s=0.5)

    def stop(self) -> None:
        """Kill the wrapper and the server it started (its process group: the data folder is
        thrown away, and a graceful stop takes a minute), and wait until every one is gone: a
        server still exiting holds the etcd port."""
        _signal_group(self._proc.pid, signal.SIGKILL)
        eventually(self._gone, STOP_TIMEOUT_S, "milvus-server exiting")

    def _gone(self) -> bool:
        # poll() reaps the wrapper: a zombie still counts as a member of the group
        return self._proc.poll() is not None and not _group_alive(self._proc.pid)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
