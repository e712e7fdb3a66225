"""The container files, checked without Docker: compose.yaml and the Dockerfile set only known
settings, the image's command exists and is accepted, the health check asks /healthz."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.__main__ import parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
KNOWN = {f"FRONTDESK_{name.upper()}" for name in Settings.model_fields}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8")))


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:`, written as a mapping or as a list of NAME=value."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    return [ln.strip() for ln in "\n".join(lines).replace("\\\n", " ").splitlines() if ln.strip()]


def instruction(name: str) -> list[str]:
    return [ln[len(name) :].strip() for ln in dockerfile() if ln.upper().startswith(name + " ")]


def dockerfile_env() -> dict[str, str]:
    pairs = re.findall(r"(\w+)=(\S+)", " ".join(instruction("ENV")))
    return dict(pairs)


def test_every_frontdesk_variable_of_compose_is_a_setting() -> None:
    services = compose()["services"]
    assert {"frontdesk", "postgres", "redis"} <= services.keys()
    for name, service in services.items():
        unknown = {k for k in environment(service) if k.startswith("FRONTDESK_")} - KNOWN
        assert not unknown, f"{name} sets unknown settings: {sorted(unknown)}"
    assert environment(services["frontdesk"]).keys() & KNOWN  # the parser sees them at all


def test_every_frontdesk_variable_of_the_dockerfile_is_a_setting() -> None:
    env = {k for k in dockerfile_env() if k.startswith("FRONTDESK_")}
    assert env and env <= KNOWN, sorted(env - KNOWN)


def test_one_replica_on_sqlite_until_a_shared_store_exists() -> None:
    """Several replicas would each keep their own SQLite database: duplicate ticket ids."""
    frontdesk = compose()["services"]["frontdesk"]
    if "database_url" not in Settings.model_fields:
        assert frontdesk["deploy"]["replicas"] == 1
        assert "FRONTDESK_DATABASE_URL" not in environment(frontdesk)
    data_dir = environment(frontdesk)["FRONTDESK_DATA_DIR"]
    assert any(str(v).endswith(f":{data_dir}") for v in frontdesk["volumes"])


def test_the_desk_keeps_its_data_in_the_compose_postgres_service() -> None:
    services = compose()["services"]
    frontdesk, postgres = environment(services["frontdesk"]), environment(services["postgres"])
    url = Settings(_env_file=None, database_url=frontdesk["FRONTDESK_DATABASE_URL"]).database_url  # type: ignore[call-arg]
    assert url == (
        f"postgresql://{postgres['POSTGRES_USER']}@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert frontdesk["PGPASSWORD"] == postgres["POSTGRES_PASSWORD"]
    assert "postgres" in services["frontdesk"]["depends_on"]


def test_the_ops_port_is_published_on_the_hosts_loopback_only() -> None:
    frontdesk = compose()["services"]["frontdesk"]
    port = environment(frontdesk)["FRONTDESK_OPS_PORT"]
    # A range of host ports, one per replica when scaled (README "Running several replicas")
    [published] = frontdesk["ports"]
    host, first_last, inside = published.split(":")
    first, _, last = first_last.partition("-")
    assert host == "127.0.0.1" and inside == port and first == port
    assert int(last or first) - int(first) + 1 >= 2
    assert dockerfile_env()["FRONTDESK_OPS_PORT"] == port


def test_the_image_runs_frontdesk_run_as_a_user_with_a_health_check() -> None:
    (base,) = instruction("FROM")
    assert base == "python:3.11-slim"
    (command,) = instruction("CMD")
    argv = json.loads(command)
    assert argv == ["frontdesk", "run"]
    # The command exists: the console script of the project, and its `run` is accepted
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    module, _, function = scripts[argv[0]].partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    assert parser().parse_args(argv[1:]).command == "run"
    (user,) = instruction("USER")
    assert user not in ("root", "0")
    (health,) = instruction("HEALTHCHECK")
    assert "/healthz" in health and "FRONTDESK_OPS_PORT" in health


def test_local_state_and_secrets_stay_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", "var", ".git"} <= set(ignored)
