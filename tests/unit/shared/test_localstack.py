import pytest

from imagesearch_dev.localstack.processes import StackError
from imagesearch_dev.localstack.settings import StackSettings
from imagesearch_dev.localstack.stack import Stack, render


def test_render_fills_placeholders_and_keeps_nginx_variables() -> None:
    out = render("root ${ROOT}; try_files $uri $uri/ =404;", {"ROOT": "/srv"})
    assert out == "root /srv; try_files $uri $uri/ =404;"


def test_render_refuses_a_missing_value() -> None:
    with pytest.raises(StackError, match="MISSING"):
        render("listen ${MISSING};", {})


def test_service_env_points_every_service_at_the_stack() -> None:
    settings = StackSettings(host="127.0.0.1", ports={"redis": 7000, "s3": 7001, "milvus": 7002})
    env = Stack(settings, extra_env={"SEARCHAPI__LOG__LEVEL": "DEBUG"}).service_env()
    assert env["INGESTAPI__REDIS__PORT"] == "7000"
    assert env["INGESTWORKER__STORAGE__ENDPOINT"] == "127.0.0.1:7001"
    assert env["SEARCHAPI__MILVUS__URI"] == "http://127.0.0.1:7002"
    assert env["CDNAPI__STORAGE__ACCESS_KEY"] == settings.s3_access_key
    assert env["SEARCHAPI__LOG__LEVEL"] == "DEBUG"
