import pytest

from imagesearch_dev.localstack.processes import StackError
from imagesearch_dev.localstack.settings import StackSettings
from imagesearch_dev.localstack.stack import Stack, render
from shared.web.signing import link_secret


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


def test_a_keyless_stack_refuses_a_public_address_before_starting_anything(tmp_path) -> None:  # type: ignore[no-untyped-def]
    public = Stack(StackSettings(run_dir=tmp_path, host="0.0.0.0"))
    with pytest.raises(StackError, match=r"no API keys, and the stack is reached on 0\.0\.0\.0"):
        public.up(["nginx"])
    assert not (tmp_path / "pids").exists() or not any((tmp_path / "pids").iterdir())
    keyed = Stack(
        StackSettings(run_dir=tmp_path, auth={"api_keys": ["k-1a2b3c"], "protect_reads": True})  # type: ignore[arg-type]
    )
    with pytest.raises(StackError, match="url_signing_key"):
        keyed.up(["nginx"])


def test_every_api_and_nginx_get_the_stacks_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a key with characters that are nginx syntax: only its hash reaches nginx's config
    key = 's-9f8e7d"; $uri }'
    auth = {"api_keys": ["k-1a2b3c"], "protect_reads": True, "url_signing_key": key}
    stack = Stack(StackSettings(run_dir=tmp_path, auth=auth))  # type: ignore[arg-type]
    env = stack.service_env()
    for service in ("INGESTAPI", "SEARCHAPI", "CDNAPI"):
        assert env[f"{service}__AUTH__API_KEYS"] == '["k-1a2b3c"]'
        assert env[f"{service}__AUTH__URL_SIGNING_KEY"] == key
        assert env[f"{service}__AUTH__PROTECT_READS"] == "true"
    conf = (stack.render_nginx().parent / "locations.conf").read_text()
    assert f'secure_link_md5 "$secure_link_expires$uri {link_secret(key)}"' in conf
    assert "s-9f8e7d" not in conf
    assert 'set $image_gate "on";' in conf
