"""Readiness probes: each answers True once its server does its job."""

import socket
import urllib.request


def tcp_open(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1.0):
        return True


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2.0) as response:  # noqa: S310 - local URL
        return bool(response.status == 200)


def redis_ping(host: str, port: int) -> bool:
    import redis

    client = redis.Redis(host=host, port=port, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        return bool(client.ping())
    finally:
        client.close()


def milvus_ready(uri: str) -> bool:
    from shared.config import MilvusSettings
    from shared.vectors import open_client

    host, port = uri.removeprefix("http://").split(":")
    tcp_open(host, int(port))
    client = open_client(MilvusSettings(uri=uri, timeout_s=2.0))
    try:
        client.list_collections()
        return True
    finally:
        client.close()


def celery_worker_ready(redis_url: str, node: str) -> bool:
    from celery import Celery

    app = Celery("probe", broker=redis_url)
    try:
        return bool(app.control.ping(destination=[node], timeout=1.0))
    finally:
        app.close()
