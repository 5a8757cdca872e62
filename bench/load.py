"""HTTP load generators for bench/report.py: wrk when installed, else Python processes.

Both keep ``clients`` connections open (HTTP/1.1 keep-alive), each sending its next request
as soon as the previous answer is read (closed loop), for a fixed duration; both measure
the client-side latency of every request and collect the server's ``Server-Timing:
app;dur=`` header (bench.middleware) so that server-side time is reported too.

- ``wrk`` (apt package ``wrk``): C, epoll, so the generator costs the 2 cores little; a Lua
  script adds the ``Authorization`` header (rotating over the tokens, one user per client)
  and collects the status codes and server timings; latency percentiles from wrk's own
  histogram.
- Python: ``processes`` separate processes (so the generator's GIL never caps the server),
  each with ``clients / processes`` threads and one ``http.client`` keep-alive connection
  per thread. Costs more CPU per request than wrk: on a 2-core machine it takes cores from
  the server, which the ratio to the bare view (same generator, same run) cancels out.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._util import latency_summary, percentile

_SERVER_TIMING = re.compile(r"dur=([0-9.]+)")

WRK_SCRIPT = r"""
-- durs and bad are globals: done() reads them from each thread with thread:get().
local tokens = {}
local counter = 0
local threads = {}
durs = {}
ndurs = 0
bad = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("BENCH_TOKENS_FILE")
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  counter = math.random(1, 1000)
end

function request()
  counter = counter + 1
  local headers = {}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  end
  return wrk.format("GET", nil, headers)
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  local timing = headers["Server-Timing"] or headers["server-timing"]
  if timing then
    local dur = string.match(timing, "dur=([0-9.]+)")
    if dur then
      ndurs = ndurs + 1
      durs[ndurs] = tonumber(dur)
    end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("BENCH_WRK_OUT"), "w")
  local errors = summary.errors
  local bad_total = 0
  out:write(string.format("summary %d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
  out:write(string.format("latency %f %f %f %f %f\n", latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max))
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
    local tdurs = thread:get("durs") or {}
    for _, value in ipairs(tdurs) do out:write(string.format("st %f\n", value)) end
  end
  out:write(string.format("bad %d\n", bad_total))
  out:close()
end
"""


def server_timing_ms(header: str | None) -> float | None:
    """The ``dur`` of a ``Server-Timing`` header, in milliseconds."""
    if not header:
        return None
    found = _SERVER_TIMING.search(header)
    return float(found.group(1)) if found else None


def _server_summary(durations: list[float]) -> dict[str, Any]:
    return {
        "server_p50_ms": round(percentile(durations, 50), 3),
        "server_p99_ms": round(percentile(durations, 99), 3),
        "server_samples": len(durations),
    }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_run(*, url: str, tokens: list[str], clients: int, duration: float, threads: int = 2) -> dict[str, Any]:
    """One wrk run against ``url``; its figures (see ``latency_summary``) and server timings."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp, "bench.lua")
        script.write_text(WRK_SCRIPT)
        tokens_file = Path(tmp, "tokens")
        tokens_file.write_text("\n".join(tokens) + "\n")
        out = Path(tmp, "out")
        env = {**os.environ, "BENCH_TOKENS_FILE": str(tokens_file) if tokens else "", "BENCH_WRK_OUT": str(out)}
        command = [
            "wrk",
            f"-t{min(threads, clients)}",
            f"-c{clients}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ]
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60)
        if completed.returncode != 0 or not out.is_file():
            raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
        return parse_wrk_output(out.read_text())


def parse_wrk_output(text: str) -> dict[str, Any]:
    """The figures of the file written by ``WRK_SCRIPT``'s ``done`` (latencies there are in µs)."""
    durations: list[float] = []
    figures: dict[str, Any] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        values = rest.split()
        if kind == "summary":
            # wrk counts status >= 400 itself; the script counts every non-200 ("bad").
            requests, duration_us, connect, read, write, _status, timeout = (int(float(v)) for v in values)
            figures["requests"] = requests
            figures["duration_s"] = round(duration_us / 1e6, 3)
            figures["socket_errors"] = connect + read + write + timeout
        elif kind == "latency":
            p50, p90, p99, mean, maximum = (float(v) / 1000 for v in values)
            figures.update(p50_ms=round(p50, 3), p90_ms=round(p90, 3), p99_ms=round(p99, 3))
            figures.update(mean_ms=round(mean, 3), max_ms=round(maximum, 3))
        elif kind == "st":
            durations.append(float(values[0]))
        elif kind == "bad":
            figures["non_200"] = int(values[0])
    figures["errors"] = figures.get("socket_errors", 0) + figures.get("non_200", 0)
    figures["rps"] = round(figures["requests"] / figures["duration_s"], 1) if figures.get("duration_s") else 0.0
    figures.update(_server_summary(durations))
    return figures


def _client_thread(host: str, port: int, path: str, headers: dict[str, str], deadline: float, out: dict) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=10)
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status == 200:
                out["latencies"].append(elapsed)
            else:
                out["errors"] += 1
            timing = server_timing_ms(response.getheader("Server-Timing"))
            if timing is not None:
                out["server"].append(timing)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            out["errors"] += 1
            connection.close()
    connection.close()


def _client_process(host: str, port: int, path: str, header_sets: list[dict[str, str]], duration: float) -> dict:
    # One result dict per thread (no shared counters between threads), merged at the end.
    outs: list[dict[str, Any]] = [{"latencies": [], "errors": 0, "server": []} for _ in header_sets]
    started = time.perf_counter()
    deadline = started + duration
    workers = [
        threading.Thread(target=_client_thread, args=(host, port, path, headers, deadline, out), daemon=True)
        for headers, out in zip(header_sets, outs, strict=True)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "latencies": [value for out in outs for value in out["latencies"]],
        "errors": sum(out["errors"] for out in outs),
        "server": [value for out in outs for value in out["server"]],
        "span": time.perf_counter() - started,  # the duration plus the last requests in flight
    }


def python_run(
    *, host: str, port: int, path: str, tokens: list[str], clients: int, duration: float, processes: int = 2
) -> dict[str, Any]:
    """The same measurement as ``wrk_run`` with ``processes`` Python processes of threads."""
    processes = max(1, min(processes, clients))
    header_sets = [{"Authorization": f"Bearer {tokens[i % len(tokens)]}"} if tokens else {} for i in range(clients)]
    shares = [header_sets[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.starmap(_client_process, [(host, port, path, share, duration) for share in shares])
    span = sum(part["span"] for part in parts) / len(parts)
    latencies = [value for part in parts for value in part["latencies"]]
    errors = sum(part["errors"] for part in parts)
    figures = latency_summary(latencies, duration_s=span, errors=errors)
    figures.update(_server_summary([value for part in parts for value in part["server"]]))
    return figures
