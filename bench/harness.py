"""Benchmark harness: every case runs in its own Python process.

Running each case in a fresh process gives an honest peak memory (the child's
own max RSS from ``os.wait4``) and keeps one case's caches from helping the
next. A case is ``module:function``; it receives keyword arguments as JSON and
returns a dict of extra figures (row counts, checksums) printed beside the time.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import importlib, json, resource, sys, time
sys.path.insert(0, {root!r})
mod, fn = {case!r}.split(":")
func = getattr(importlib.import_module(mod), fn)
kwargs = json.loads({kwargs!r})
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
start, cpu0 = time.perf_counter(), cpu()
extra = func(**kwargs) or {{}}
elapsed, cpu_s = time.perf_counter() - start, cpu() - cpu0
from bench.harness import peak_rss_mb
print("@@RESULT@@" + json.dumps({{"seconds": elapsed, "cpu_s": cpu_s, "peak_mb": peak_rss_mb(), **extra}}, default=str))
"""


@dataclass
class Result:
    name: str
    seconds: float
    peak_mb: float
    extra: dict[str, object]
    cpu_s: float = float("nan")


def run_case(name: str, case: str, timeout_s: int = 1800, **kwargs: object) -> Result:
    """Run ``case`` in a child process; return its wall time (in the child) and peak RSS."""
    code = _CHILD.format(root=str(ROOT), case=case, kwargs=json.dumps(kwargs))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Result(name, float("nan"), float("nan"), {"error": f"timeout after {timeout_s}s"})
    line = next((ln for ln in out.splitlines() if ln.startswith("@@RESULT@@")), None)
    if proc.returncode != 0 or line is None:
        return Result(name, float("nan"), float("nan"), {"error": err.strip().splitlines()[-1:] or "failed"})
    data = json.loads(line[len("@@RESULT@@") :])
    seconds = float(data.pop("seconds"))
    peak = float(data.pop("peak_mb", float("nan")))
    return Result(name, seconds, peak, data, cpu_s=float(data.pop("cpu_s", float("nan"))))


def peak_rss_mb() -> float:
    """Peak resident memory of the calling process so far (VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    """One line describing the machine the figures come from."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}, load average at start {load}"


def markdown_table(results: list[Result], baseline: str | None = None) -> str:
    """Render results as a Markdown table, with speed relative to ``baseline`` (wall time and CPU time).

    CPU seconds (user + system, all threads of the case's process) say how much work a case did;
    on a busy machine they move less than wall time, so both are shown.
    """
    base = next((r for r in results if r.name == baseline), None)
    lines = [
        "| case | seconds | CPU s | peak MB | vs " + (baseline or "-") + " (wall / CPU) | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        rel = "-"
        if base is not None and r.seconds == r.seconds and base.seconds:
            rel = (
                f"{r.seconds / base.seconds:.2f}x / {r.cpu_s / base.cpu_s:.2f}x"
                if base.cpu_s
                else f"{r.seconds / base.seconds:.2f}x"
            )
        notes = ", ".join(f"{k}={v}" for k, v in r.extra.items())
        lines.append(f"| {r.name} | {r.seconds:.2f} | {r.cpu_s:.2f} | {r.peak_mb:.0f} | {rel} | {notes} |")
    return "\n".join(lines)
