"""deploy/: the docker compose file, its nginx configuration and its Dockerfile, checked without Docker
(the test machine has no Docker engine): the services the README promises, the settings the app
reads, and that the pieces refer to each other consistently (names, ports, volumes, paths)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ui.classroom import DB_ENV
from ui.runs import RAY_ADDRESS_ENV

yaml = pytest.importorskip("yaml")  # PyYAML comes with ray (requirements-optional.txt)

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
APPS = ("app-a", "app-b")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def command(service: dict) -> str:
    value = service["command"]
    return " ".join(value) if isinstance(value, list) else value


def test_the_compose_file_starts_a_head_a_worker_two_replicas_postgres_and_a_load_balancer(compose):
    services = compose["services"]
    assert set(services) == {"ray-head", "ray-worker", "postgres", *APPS, "nginx"}
    head = command(services["ray-head"])
    assert "ray start --head" in head and "--port=6379" in head and "--block" in head
    worker = command(services["ray-worker"])
    assert "ray start --address=ray-head:6379" in worker and "--block" in worker and "--num-cpus=" in worker
    for name in ("ray-worker", *APPS):
        assert services[name]["depends_on"]["ray-head"]["condition"] == "service_healthy"
    for name in ("ray-head", "ray-worker", *APPS):  # one image: the same Ray and code everywhere
        assert services[name]["image"] == "tinylm-lab:latest"
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_the_replicas_share_the_cluster_the_runs_folder_and_the_database(compose):
    services = compose["services"]
    a, b = (services[name] for name in APPS)
    assert a == b  # the same settings, from one anchor
    env = a["environment"]
    assert env[RAY_ADDRESS_ENV] == "auto"  # the Ray node each replica starts first
    assert "ray start --address=ray-head:6379 --num-cpus=0" in command(a)
    assert "streamlit run app.py" in command(a) and "--server.port=8501" in command(a)
    runs_volume, _, mount = a["volumes"][0].partition(":")
    assert env["TINYLM_RUNS_DIR"] == mount and runs_volume in compose["volumes"]  # a named, shared volume
    postgres = services["postgres"]["environment"]
    url = f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres:5432/"
    assert env[DB_ENV] == url + postgres["POSTGRES_DB"]
    assert "STREAMLIT_SERVER_COOKIE_SECRET" in env  # one secret: the XSRF cookie works on both
    assert a["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_nginx_balances_the_two_replicas_with_sticky_sessions_and_websockets(compose):
    nginx = compose["services"]["nginx"]
    source, _, target = nginx["volumes"][0].partition(":")
    assert (DEPLOY / source).is_file() and target.startswith("/etc/nginx/conf.d/")
    assert nginx["ports"] == ["8080:80"]
    config = (DEPLOY / source).read_text()
    upstream = re.search(r"upstream tinylm_app \{(.*?)\}", config, re.S).group(1)
    assert "ip_hash;" in upstream
    assert re.findall(r"server ([\w-]+):(\d+)", upstream) == [(name, "8501") for name in APPS]
    assert "proxy_pass http://tinylm_app;" in config and "listen 80;" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config and "proxy_http_version 1.1;" in config


def test_the_image_installs_the_pinned_cpu_torch_and_puts_the_code_on_the_workers_path():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    pinned = re.search(r"^torch==\S+", (ROOT / "requirements.txt").read_text(), re.M).group(0)
    assert f"--index-url https://download.pytorch.org/whl/cpu {pinned}" in dockerfile
    assert "-r requirements.txt -r requirements-optional.txt" in dockerfile
    assert "WORKDIR /app" in dockerfile and "PYTHONPATH=/app" in dockerfile
    assert "ray==" in (ROOT / "requirements-optional.txt").read_text()
