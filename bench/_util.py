"""Helpers shared by the benchmark scripts: statistics, services on localhost, child processes.

Nothing here imports Django, so the runner and the load generator stay light; the parts that
need Django run in child processes with ``DJANGO_SETTINGS_MODULE=bench.settings``.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# Every script ends with one line "BENCH_RESULT {json}" so that bench/run.py can read its
# figures without parsing prose; scripts owned by others may print a bare JSON line instead.
RESULT_PREFIX = "BENCH_RESULT "


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def latency_summary(
    latencies_ms: Sequence[float], *, duration_s: float, errors: int = 0, requests: int | None = None
) -> dict[str, Any]:
    """Throughput and latency figures of one load run.

    ``latencies_ms`` are the client-side latencies of the successful requests; ``requests``
    is how many completed in ``duration_s`` (default: the latencies plus the errors).
    """
    if duration_s <= 0:
        raise ValueError("duration_s must be positive")
    completed = len(latencies_ms) + errors if requests is None else requests
    return {
        "requests": completed,
        "errors": errors,
        "duration_s": round(duration_s, 3),
        "rps": round(completed / duration_s, 1),
        "mean_ms": round(sum(latencies_ms) / len(latencies_ms), 3) if latencies_ms else math.nan,
        "p50_ms": round(percentile(latencies_ms, 50), 3),
        "p90_ms": round(percentile(latencies_ms, 90), 3),
        "p99_ms": round(percentile(latencies_ms, 99), 3),
        "max_ms": round(max(latencies_ms), 3) if latencies_ms else math.nan,
    }


def ratio(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return round(numerator / denominator, 3)


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def result_line(name: str, figures: Mapping[str, Any]) -> str:
    """The final line of a benchmark script: its name and figures as JSON."""
    return RESULT_PREFIX + json.dumps({"bench": name, **figures}, default=str, allow_nan=True)


def parse_result(output: str) -> dict[str, Any] | None:
    """The figures of a script's output: its last ``BENCH_RESULT`` line, else its last JSON object line."""
    bare: dict[str, Any] | None = None
    for line in reversed(output.splitlines()):
        line = line.strip()
        candidate = line[len(RESULT_PREFIX) :] if line.startswith(RESULT_PREFIX) else line
        if not candidate.startswith("{"):
            continue
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        if line.startswith(RESULT_PREFIX):
            return value
        if bare is None:
            bare = value
    return bare


def django_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child process that runs Django with the bench settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_SETTINGS_MODULE")}
    env.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


def run_child(args: Sequence[str], env: Mapping[str, str], *, prefix: str = "") -> tuple[int, str]:
    """Run a child process, stream its output (stdout and stderr) and return (code, output)."""
    process = subprocess.Popen(
        list(args), cwd=REPO, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if not line.startswith(RESULT_PREFIX):
            sys.stdout.write(prefix + line)
            sys.stdout.flush()
    return process.wait(), "".join(lines)


def fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return "n/a" if value is None else str(value)
