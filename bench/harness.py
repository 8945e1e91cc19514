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
import importlib, json, sys, time
sys.path.insert(0, {root!r})
mod, fn = {case!r}.split(":")
func = getattr(importlib.import_module(mod), fn)
kwargs = json.loads({kwargs!r})
start = time.perf_counter()
extra = func(**kwargs) or {{}}
elapsed = time.perf_counter() - start
from bench.harness import peak_rss_mb
print("@@RESULT@@" + json.dumps({{"seconds": elapsed, "peak_mb": peak_rss_mb(), **extra}}, default=str))
"""


@dataclass
class Result:
    name: str
    seconds: float
    peak_mb: float
    extra: dict[str, object]


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
    return Result(name, seconds, peak, data)


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
    """Render results as a Markdown table, with speed relative to ``baseline``."""
    base = next((r.seconds for r in results if r.name == baseline), None)
    lines = ["| case | seconds | peak MB | vs " + (baseline or "-") + " | notes |", "|---|---:|---:|---:|---|"]
    for r in results:
        rel = f"{r.seconds / base:.2f}x" if base and r.seconds == r.seconds else "-"
        notes = ", ".join(f"{k}={v}" for k, v in r.extra.items())
        lines.append(f"| {r.name} | {r.seconds:.2f} | {r.peak_mb:.0f} | {rel} | {notes} |")
    return "\n".join(lines)
