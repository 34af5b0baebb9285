"""The whole `glasnost run` command against the bundled mock server, next to the bound a bare client sets.

    python benchmarks/whole_command.py [--repeats 3] [--only A,B,startup,help]

Workloads (issue 17), each against the mock server in its own process (it shares this machine's cores):

- A: the quick bank, en + zh-Hans, 8 samples (issue 17: 496 requests when the bank had 62 probes), 1,000 ms
  latency, concurrency 32. The figure is ideal ÷ wall, the ideal being ceil(items / 32) × 1 s; the bare
  client's ratio is the bound.
- B: the quick bank, en + zh-Hans, 50 samples (issue 17: 3,100 requests), 0 ms latency, concurrency 64:
  requests per second, and its ratio to the bare client measured in the same run.

The item count of each workload comes from the planning code ``glasnost run`` itself uses
(``run.audit.prepare``), and the requests counted at the server must equal it.
- start-up: one request (``--limit 1 --lang en``), whole command, with and without judge and report; the bare
  client's one request (a fresh interpreter) is the bound.
- ``--help``: the whole command.

Each glasnost command is measured as a user runs it (a fresh process, a fresh store), with requests counted at
the server and the peak RSS of the process (the largest of it and its judge worker). The package's bytecode
is compiled first, as an installed package's is: a checkout run with ``PYTHONDONTWRITEBYTECODE`` would
otherwise compile every module again in every process (≈ 0.3 s of each start-up). Speed is a benchmark, never a test: these machines are noisy, so
every figure is printed with its ratio to a bound measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

from helpers_runner import MockServer  # noqa: E402

# A bare asyncio HTTP/1.1 client: keep-alive connections, one request at a time on each, nothing else.
BARE = r'''
import asyncio, json, sys, time
host, port, n, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
body = json.dumps({"model": "bare", "messages": [{"role": "user", "content": "What is the capital of France?"}],
                   "max_tokens": 64}).encode()
head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n").encode()
async def worker(todo):
    reader, writer = await asyncio.open_connection(host, port)
    while todo:
        todo.pop()
        writer.write(head + body)
        await writer.drain()
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        json.loads(await reader.readexactly(length))
    writer.close()
async def main():
    todo = list(range(n))
    await asyncio.gather(*(worker(todo) for _ in range(min(conc, n))))
t = time.perf_counter()
asyncio.run(main())
print(time.perf_counter() - t)
'''

PEAK = r'''
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, p.returncode)
if p.returncode:
    print(p.stderr[-2000:], file=sys.stderr)
'''


def received(server: MockServer) -> int:
    return sum(server.stats()["received"].values())


def bare(server: MockServer, n: int, conc: int) -> float:
    """Wall seconds of the bare client for n requests, from a fresh interpreter (start-up included)."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", BARE, "127.0.0.1", str(server.port), str(n), str(conc)],
                         capture_output=True, text=True, check=True)
    float(out.stdout)
    return time.perf_counter() - t


def glasnost(args: list[str], workdir: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one whole glasnost command in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-c", PEAK, sys.executable, "-m", "glasnost.cli.main", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env)
    wall, rss, rc = out.stdout.split()
    if rc != "0":
        raise SystemExit(f"glasnost {' '.join(args)} failed ({rc}): {out.stderr[-1500:]}")
    return float(wall), float(rss)


def planned_items(args: list[str]) -> int:
    """The work items ``glasnost run ARGS`` plans, by the planning code the command itself uses (the quick
    bank grows, so the count is never written here by hand)."""
    from glasnost.bank import load_bank
    from glasnost.records import GenerationConfig, TransportConfig
    from glasnost.run.audit import prepare
    from glasnost.targets.spec import parse_targets

    def value(flag: str, default: str | None = None) -> str | None:
        return args[args.index(flag) + 1] if flag in args else default

    limit = value("--limit")
    plan = prepare(load_bank(value("--bank", "quick")), parse_targets([value("--target")]),
                   value("--lang", "").split(","), GenerationConfig(temperature=0.0, max_tokens=1024, seed=0),
                   TransportConfig(), samples=int(value("--samples", "1")),
                   limit=int(limit) if limit is not None else None)
    return len(plan.items)


def run_args(server: MockServer, tag: str, samples: int, conc: int, full: bool, extra: list[str] = ()) -> list[str]:
    args = ["run", "--target", f"openai-compat:{server.base_url}#{tag}", "--bank", "quick", "--lang", "en,zh-Hans",
            "--samples", str(samples), "--concurrency", str(conc), "--db", "bench.db", *extra]
    return args if full else [*args, "--judge", "none", "--report", ""]


def workload(server: MockServer, name: str, samples: int, conc: int, latency_s: float, repeats: int) -> list[dict]:
    rows = []
    for rep in range(repeats):
        for full in (True, False):
            args = run_args(server, f"{name}-{rep}-{full}", samples, conc, full)
            n = planned_items(args)
            with tempfile.TemporaryDirectory() as tmp:
                before = received(server)
                wall, rss = glasnost(args, Path(tmp))
                asked = received(server) - before
            if asked != n:  # every ratio below assumes each planned item was asked exactly once
                raise SystemExit(f"workload {name}: {asked} requests reached the server for {n} planned items")
            bound = bare(server, n, conc)
            ideal = math.ceil(n / conc) * latency_s
            rows.append({"workload": name, "judge+report": full, "wall_s": wall, "items": n, "requests_at_server": asked,
                         "req_per_s": n / wall, "bare_req_per_s": n / bound, "ratio_to_bare": bound / wall,
                         "ideal_over_wall": ideal / wall if latency_s else None,
                         "bare_ideal_over_wall": ideal / bound if latency_s else None, "peak_rss_mib": rss})
    return rows


def startup(server: MockServer, repeats: int) -> list[dict]:
    rows = []
    for rep in range(repeats):
        for full in (True, False):
            with tempfile.TemporaryDirectory() as tmp:
                args = run_args(server, f"start-{rep}-{full}", 1, 1, full, ["--limit", "1"])
                args[args.index("--lang") + 1] = "en"
                wall, rss = glasnost(args, Path(tmp))
            rows.append({"workload": "startup", "judge+report": full, "wall_s": wall, "bare_s": bare(server, 1, 1),
                         "peak_rss_mib": rss})
    return rows


def help_time(repeats: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            wall, rss = glasnost(["--help"], Path(tmp))
            rows.append({"workload": "help", "wall_s": wall, "peak_rss_mib": rss})
    return rows


def main() -> None:
    import compileall

    compileall.compile_dir(str(ROOT / "src" / "glasnost"), quiet=1)  # as installed: bytecode exists
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="A,B,startup,help")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = ap.parse_args()
    only = set(args.only.split(","))
    rows: list[dict] = []
    if "A" in only:
        server = MockServer(latency_ms=1000)
        try:
            rows += workload(server, "A", 8, 32, 1.0, args.repeats)
        finally:
            server.close()
    if {"B", "startup"} & only:
        server = MockServer(latency_ms=0)
        try:
            if "B" in only:
                rows += workload(server, "B", 50, 64, 0.0, args.repeats)
            if "startup" in only:
                rows += startup(server, args.repeats)
        finally:
            server.close()
    if "help" in only:
        rows += help_time(args.repeats)
    for r in rows:
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    print()
    for name in ("A", "B"):
        for full in (True, False):
            sel = [r for r in rows if r["workload"] == name and r["judge+report"] == full]
            if not sel:
                continue
            what = "judge+report" if full else "no judge, no report"
            med = statistics.median
            if name == "A":
                print(f"A {what}: ideal/wall {min(r['ideal_over_wall'] for r in sel):.3f}-"
                      f"{max(r['ideal_over_wall'] for r in sel):.3f} (bare {med(r['bare_ideal_over_wall'] for r in sel):.3f}),"
                      f" peak RSS {max(r['peak_rss_mib'] for r in sel):.0f} MiB ({sel[0]['items']:,} items)")
            else:
                print(f"B {what}: {min(r['req_per_s'] for r in sel):,.0f}-{max(r['req_per_s'] for r in sel):,.0f} req/s "
                      f"(bare {med(r['bare_req_per_s'] for r in sel):,.0f}; ratio {min(r['ratio_to_bare'] for r in sel):.3f}-"
                      f"{max(r['ratio_to_bare'] for r in sel):.3f}), peak RSS {max(r['peak_rss_mib'] for r in sel):.0f} MiB,"
                      f" requests at server / items {max(r['requests_at_server'] / r['items'] for r in sel):.2f}"
                      f" ({sel[0]['items']:,} items)")
    for full in (True, False):
        sel = [r for r in rows if r["workload"] == "startup" and r["judge+report"] == full]
        if sel:
            print(f"start-up, one request, {'judge+report' if full else 'no judge, no report'}: "
                  f"{min(r['wall_s'] for r in sel):.2f}-{max(r['wall_s'] for r in sel):.2f} s "
                  f"(bare client {statistics.median(r['bare_s'] for r in sel):.2f} s)")
    sel = [r for r in rows if r["workload"] == "help"]
    if sel:
        print(f"--help: {min(r['wall_s'] for r in sel):.2f}-{max(r['wall_s'] for r in sel):.2f} s")
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
