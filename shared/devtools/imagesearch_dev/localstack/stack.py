"""The local stack: which processes, in which order, with which settings."""

import importlib.util
import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from imagesearch_dev.localstack import probes
from imagesearch_dev.localstack.processes import ProcessSpec, ProcessTable, StackError
from imagesearch_dev.localstack.settings import StackSettings
from shared.queue import ENRICH_QUEUE
from shared.web import AuthSettings
from shared.web.signing import link_secret

ROOT = Path(__file__).resolve().parents[4]
# started a stage at a time; a stage's processes start together and load their models in parallel
STAGES = [
    ["redis", "s3", "milvus"],
    ["worker", "enricher", "deliverer", "beat", "ingestapi", "searchapi", "cdnapi"],
    ["nginx"],
]
ORDER = [name for stage in STAGES for name in stage]
# the services that embed, and so take the stack's model
EMBEDDING_SERVICES = ("INGESTWORKER", "SEARCHAPI")
# the model the running stack was started with (a restart with another is refused)
MODEL_FILE = "model"
NGINX_MIME_TYPES = Path("/etc/nginx/mime.types")
# torch's OpenMP threads spin while they wait for work: when another process takes a core
# (cdnapi making 8 thumbnails), each query burnt 135 ms of CPU and search p50 went 10x;
# passive waiting kept it at 1.3x, at the same idle latency (make bench-hostile)
API_ENV = {"searchapi": {"OMP_WAIT_POLICY": "PASSIVE"}}


class Stack:
    def __init__(
        self,
        settings: StackSettings,
        extra_env: dict[str, str] | None = None,
        process_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.settings = settings
        self.run_dir = (ROOT / settings.run_dir).resolve()
        self.table = ProcessTable(self.run_dir)
        self._extra_env = extra_env or {}
        # variables for one process only (by name: "worker", "searchapi"…), over the others
        self._process_env = process_env or {}

    @property
    def extra_env(self) -> dict[str, str]:
        return dict(self._extra_env)

    def up(
        self, names: list[str] | None = None, on_ready: Callable[[str, int], None] | None = None
    ) -> None:
        wanted = names or ORDER
        for unknown in set(wanted) - set(ORDER):
            raise StackError(f"unknown component {unknown!r}; choose from {', '.join(ORDER)}")
        self._check_auth()
        self._check_model()
        for stage in STAGES:
            specs = [self._spec(name) for name in stage if name in wanted]
            pids = [self.table.running_pid(s.name) or self.table.start(s, ROOT) for s in specs]
            for spec, pid in zip(specs, pids, strict=True):
                self.table.wait_ready(spec, pid)
                if on_ready:
                    on_ready(spec.name, pid)

    def down(self) -> list[str]:
        stopped = [name for name in reversed(ORDER) if self.table.stop(name)]
        (self.run_dir / MODEL_FILE).unlink(missing_ok=True)
        return stopped

    def _check_model(self) -> None:
        """The services that embed run one model: starting some with another is refused."""
        wanted = self.settings.model or "(conf)"
        recorded = self.run_dir / MODEL_FILE
        running = [n for n in ("worker", "enricher", "searchapi") if self.table.running_pid(n)]
        if running and recorded.exists() and recorded.read_text() != wanted:
            raise StackError(
                f"the stack runs model {recorded.read_text()}: `make down` first, then `make "
                f"up MODEL={self.settings.model or '…'}` (`make reindex MODEL=…` embeds an "
                "indexed library again with the new model)"
            )
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if not running:
            recorded.write_text(wanted)

    def status(self) -> dict[str, int | None]:
        return {name: self.table.running_pid(name) for name in ORDER}

    def service_env(self) -> dict[str, str]:
        """Environment overrides that point every service at this stack's servers."""
        s, host = self.settings, self.settings.host
        redis = {"HOST": host, "PORT": str(s.ports.redis)}
        storage = {
            "ENDPOINT": f"{host}:{s.ports.s3}",
            "ACCESS_KEY": s.s3_access_key,
            "SECRET_KEY": s.s3_secret_key,
        }
        milvus = {"URI": f"http://{host}:{s.ports.milvus}"}
        sections = {
            "INGESTAPI": {"REDIS": redis, "STORAGE": storage, "MILVUS": milvus},
            "INGESTWORKER": {"REDIS": redis, "STORAGE": storage, "MILVUS": milvus},
            "SEARCHAPI": {"STORAGE": storage, "MILVUS": milvus},
            "CDNAPI": {"STORAGE": storage},
        }
        env = {
            f"{service}__{section}__{key}": value
            for service, by_section in sections.items()
            for section, values in by_section.items()
            for key, value in values.items()
        }
        if s.model:
            env.update({f"{svc}__EMBEDDING__MODEL": s.model for svc in EMBEDDING_SERVICES})
        env["IMAGESEARCH_CONF_DIR"] = str(ROOT / "conf")
        refresh = f"http://{host}:{s.ports.nginx_refresh}"
        env["INGESTAPI__CACHE__TARGETS"] = json.dumps([refresh])
        for service in ("INGESTAPI", "SEARCHAPI", "CDNAPI"):
            env.update({f"{service}__AUTH__{k}": v for k, v in self._auth_env().items()})
        return {**env, **self._extra_env}

    def _check_auth(self) -> None:
        """The services would refuse these settings one by one; say it once, before starting."""
        auth = self.settings.auth
        try:
            AuthSettings(
                api_keys=auth.api_keys,  # type: ignore[arg-type]
                protect_reads=auth.protect_reads,
                url_signing_key=auth.url_signing_key,  # type: ignore[arg-type]
                exposed_on=self.settings.host,
                allow_keyless=auth.allow_keyless,
            ).require_signing_key()
        except ValidationError as exc:
            raise StackError(f"stack.auth: {exc.errors()[0]['msg']}") from None
        except ValueError as exc:
            raise StackError(f"stack.auth: {exc}") from None

    def _auth_env(self) -> dict[str, str]:
        auth = self.settings.auth
        env = {"EXPOSED_ON": self.settings.host, "ALLOW_KEYLESS": str(auth.allow_keyless).lower()}
        if auth.api_keys:
            env["API_KEYS"] = json.dumps(auth.api_keys)
            env["PROTECT_READS"] = str(auth.protect_reads).lower()
        if auth.url_signing_key:
            env["URL_SIGNING_KEY"] = auth.url_signing_key
        return env

    @property
    def redis_url(self) -> str:
        return f"redis://{self.settings.host}:{self.settings.ports.redis}/0"

    def _spec(self, name: str) -> ProcessSpec:
        builders = {
            "redis": self._redis,
            "s3": self._s3,
            "milvus": self._milvus,
            "worker": self._worker,
            "enricher": self._enricher,
            "deliverer": self._deliverer,
            "beat": self._beat,
            "ingestapi": lambda: self._api("ingestapi"),
            "searchapi": lambda: self._api("searchapi"),
            "cdnapi": lambda: self._api("cdnapi"),
            "nginx": self._nginx,
        }
        return builders[name]()

    def _data(self, name: str) -> Path:
        path = self.run_dir / "data" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _redis(self) -> ProcessSpec:
        host, port = self.settings.host, self.settings.ports.redis
        argv = [
            _require("redis-server", "apt-get install redis-server (make setup)"),
            "--bind", host, "--port", str(port), "--dir", str(self._data("redis")),
            "--appendonly", "yes", "--save", "", "--daemonize", "no",
        ]  # fmt: skip
        return ProcessSpec("redis", argv, lambda: probes.redis_ping(host, port))

    def _s3(self) -> ProcessSpec:
        binary = ROOT / ".tools" / "node_modules" / ".bin" / "s3rver"
        if not binary.exists():
            raise StackError("s3rver is not installed: run make setup")
        host, port = self.settings.host, self.settings.ports.s3
        argv = [str(binary), "-d", str(self._data("s3")), "-a", host, "-p", str(port), "--silent"]
        return ProcessSpec("s3", argv, lambda: probes.tcp_open(host, port))

    def _milvus(self) -> ProcessSpec:
        # the C++ milvus-lite server in TCP mode: one process that every client shares
        spec = importlib.util.find_spec("milvus_lite")
        if spec is None or not spec.submodule_search_locations:
            raise StackError("milvus-lite is not installed: run make setup")
        lib = Path(spec.submodule_search_locations[0]) / "lib"
        host, port = self.settings.host, self.settings.ports.milvus
        db = self._data("milvus") / "milvus.db"
        argv = [str(lib / "milvus"), str(db), f"{host}:{port}", "ERROR"]
        uri = f"http://{host}:{port}"
        return ProcessSpec(
            "milvus", argv, lambda: probes.milvus_ready(uri), env={"LD_LIBRARY_PATH": str(lib)}
        )

    def _worker(self) -> ProcessSpec:
        return self._celery_worker("worker", "ingestworker", "celery")

    def _enricher(self) -> ProcessSpec:
        # enrichment on workers of its own, as a deployment scales them apart; on the same
        # cores as indexing it runs at the lowest priority, so it never slows an image on its
        # way to being searchable (the worker serves the metrics port: one process per port)
        return self._celery_worker(
            "enricher", "enricher", ENRICH_QUEUE, {"INGESTWORKER__METRICS__PORT": "0"}, nice=19
        )

    def _celery_worker(
        self,
        name: str,
        hostname: str,
        queue: str,
        own_env: dict[str, str] | None = None,
        nice: int = 0,
    ) -> ProcessSpec:
        node = f"{hostname}-{self.settings.ports.redis}@{socket.gethostname()}"
        argv = [
            *(_lowered(nice) if nice else []),
            sys.executable, "-m", "celery", "-A", "ingestworker.celery_app", "worker",
            "--pool", "prefork", "--loglevel", "INFO", "--hostname", node, "--queues", queue,
        ]  # fmt: skip
        # the cores shared out among the children: more threads only fight over the same cores
        threads = str(max(1, (os.cpu_count() or 1) // self.settings.worker_concurrency))
        env = {**self.service_env(), "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        # as the deployments set it: the config, not the command line
        env["INGESTWORKER__WORKER__CONCURRENCY"] = str(self.settings.worker_concurrency)
        # the worker's state: its children's metric files, under this stack's run folder
        env["INGESTWORKER__METRICS__DIR"] = str(self.run_dir / "state" / f"{name}-metrics")
        env.update(own_env or {})
        env.update(self._process_env.get(name, {}))
        url = self.redis_url
        return ProcessSpec(name, argv, lambda: probes.celery_worker_ready(url, node), env=env)

    def _deliverer(self) -> ProcessSpec:
        # webhook deliveries, in a process of their own: a slow receiver never slows indexing
        argv = [sys.executable, "-m", "ingestworker.cli.deliver_webhooks"]
        log = self.table.log_path("deliverer")
        env = {**self.service_env(), **self._process_env.get("deliverer", {})}
        return ProcessSpec(
            "deliverer", argv,
            lambda: "webhook_deliverer_ready" in log.read_text(errors="replace"), env=env,
        )  # fmt: skip

    def _beat(self) -> ProcessSpec:
        schedule = self._data("beat") / "schedule"
        argv = [
            sys.executable, "-m", "celery", "-A", "ingestworker.celery_app", "beat",
            "--schedule", str(schedule), "--loglevel", "INFO",
        ]  # fmt: skip
        log = self.table.log_path("beat")
        return ProcessSpec(
            "beat", argv, lambda: "beat: Starting" in log.read_text(errors="replace"),
            env=self.service_env(),
        )  # fmt: skip

    def _api(self, name: str) -> ProcessSpec:
        host, port = self.settings.host, getattr(self.settings.ports, name)
        argv = [
            sys.executable, "-m", "uvicorn", f"{name}.main:create_app", "--factory",
            "--host", host, "--port", str(port), "--no-access-log",
            "--timeout-graceful-shutdown", "20",
        ]  # fmt: skip
        if name == "cdnapi" and self.settings.cdnapi_workers > 1:
            argv += ["--workers", str(self.settings.cdnapi_workers)]
        url = f"http://{host}:{port}/healthz"
        env = {**self.service_env(), **API_ENV.get(name, {}), **self._process_env.get(name, {})}
        return ProcessSpec(name, argv, lambda: probes.http_ok(url), env=env)

    def _nginx(self) -> ProcessSpec:
        conf = self.render_nginx()
        argv = [
            _require("nginx", "apt-get install nginx (make setup)"),
            "-c", str(conf), "-e", str(self.table.log_path("nginx-error")),
        ]  # fmt: skip
        url = f"http://{self.settings.host}:{self.settings.ports.nginx}/"
        return ProcessSpec("nginx", argv, lambda: probes.http_ok(url))

    def render_nginx(self, **overrides: str) -> Path:
        """nginx's config for this stack, written under the run folder; ``overrides`` replace
        template values (tests render the shipped templates with values of their own)."""
        s, host = self.settings, self.settings.host
        out = self.run_dir / "nginx"
        for sub in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"]:
            (out / sub).mkdir(parents=True, exist_ok=True)
        self.table.logs.mkdir(parents=True, exist_ok=True)
        values = {
            "RUN_DIR": str(self.run_dir),
            "NGINX_LISTEN": f"{host}:{s.ports.nginx}",
            "NGINX_REFRESH_LISTEN": f"{host}:{s.ports.nginx_refresh}",
            "NGINX_REFRESH_HOST": host,
            "NGINX_MIME_TYPES": str(NGINX_MIME_TYPES),
            "NGINX_CONF_DIR": str(ROOT / "conf" / "nginx"),
            "NGINX_MAX_BODY": "512m",
            "NGINX_SEARCH_MAX_BODY": "21m",
            "NGINX_SERVER_NAMES": " ".join(dict.fromkeys([*s.server_names, host])),
            "NGINX_REAL_IP_FROM": s.real_ip_from,
            "NGINX_PROTECT_READS": "on" if s.auth.protect_reads and s.auth.api_keys else "off",
            "NGINX_URL_LINK_SECRET": link_secret(s.auth.url_signing_key or "unused"),
            "INGESTAPI_UPSTREAM": f"{host}:{s.ports.ingestapi}",
            "SEARCHAPI_UPSTREAM": f"{host}:{s.ports.searchapi}",
            "CDNAPI_UPSTREAM": f"{host}:{s.ports.cdnapi}",
            "FRONTEND_ROOT": str(ROOT / "frontend"),
            **overrides,
        }
        templates = ROOT / "conf" / "nginx"
        for name in ("locations", "refresh"):
            (out / f"{name}.conf").write_text(
                render((templates / f"{name}.conf.template").read_text(), values)
            )
        conf = out / "nginx.conf"
        conf.write_text(render((templates / "local.conf.template").read_text(), values))
        return conf


def render(template: str, values: dict[str, str]) -> str:
    """Fill ``${NAME}`` like envsubst, leaving nginx's own ``$variables`` alone."""

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise StackError(f"nginx template needs a value for ${{{match.group(1)}}}")
        return values[match.group(1)]

    return re.sub(r"\$\{([A-Z_]+)\}", fill, template)


def _require(binary: str, hint: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        raise StackError(f"{binary} not found: {hint}")
    return path


def _lowered(nice: int) -> list[str]:
    """A command prefix that runs the command at this nice value. Each process of the stack
    is a session of its own, and with the kernel's autogroups (sched_autogroup_enabled) nice
    only ranks processes within a session: the session's own nice (/proc/self/autogroup) is
    what ranks it against the others."""
    script = f'echo {nice} > /proc/self/autogroup 2>/dev/null; exec nice -n {nice} "$@"'
    return ["sh", "-c", script, "lowered"]
