"""Real processes for the reliability tests: gunicorn, Redis and Celery on spare local ports.

Every server listens on 127.0.0.1 only: gunicorn on a socket this process binds to port 0
and hands over (``fd://``), Redis on a port the kernel picked a moment before. Each helper is
a context manager that stops its process (by its pid) on the way out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database the test runs on (pytest-django's test database)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def app_env(**overrides: str) -> dict[str, str]:
    """The environment of a server or worker process that shares the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=database_url(),
        PYTHONPATH=str(BASE_DIR),
    )
    env.update(overrides)
    return env


def _wait(check, *, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout} s")


def stop(proc: subprocess.Popen, *, timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, threads: int = 4, workers: int = 1, log: Path | None = None) -> Iterator[str]:
    """``workers`` gthread gunicorn workers (default one) on a spare port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"fd://{sock.fileno()}",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        pass_fds=[sock.fileno()],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    sock.close()
    try:
        _wait(lambda: requests.get(f"{base}/api/health/live", timeout=2).ok, timeout=60, what="gunicorn", proc=proc)
        yield base
    finally:
        stop(proc)
        if log:
            out.close()


def redis_server_path() -> str | None:
    return shutil.which("redis-server")


@contextlib.contextmanager
def redis_server(port: int | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """A throwaway Redis (no persistence) on a spare port; yields (port, process)."""
    port = port or spare_port()
    proc = subprocess.Popen(
        [
            redis_server_path() or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: _redis_ping(port), timeout=15, what="redis-server", proc=proc)
        yield port, proc
    finally:
        stop(proc)


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16).startswith(b"+PONG")
