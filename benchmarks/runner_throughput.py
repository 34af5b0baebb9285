"""Runner throughput against the mock OpenAI-compatible server (in its own process) at a set latency.

    python benchmarks/runner_throughput.py [--concurrency 1,8,64,256] [--latency-ms 0,200]

For each (latency, concurrency) it runs a fresh plan through the real runner, the real openai-compat
adapter and a real SQLite store, and prints requests per second and the ratio to the ideal
(concurrency / latency; at 0 ms there is no ideal, the aim is >= 1,000 requests/s from one process).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers_runner import MockServer  # noqa: E402

from glasnost.bank.load import Bank  # noqa: E402
from glasnost.records import Concept, GenerationConfig, TransportConfig  # noqa: E402
from glasnost.run import audit  # noqa: E402
from glasnost.run.loop import run_async  # noqa: E402
from glasnost.store import open_store  # noqa: E402
from glasnost.targets.spec import parse_target  # noqa: E402


def synthetic_bank(n: int) -> Bank:
    concepts = [
        Concept(id=f"xx.bench.{i}", jurisdiction="XX", topic="bench", kind="control", sensitivity="none",
                variants={"en": f"Benchmark question number {i}?"})
        for i in range(n)
    ]
    return Bank(name="bench", version="1", concepts=concepts)


def measure(base_url: str, concurrency: int, latency_ms: float, items: int) -> float:
    bank = synthetic_bank(items)
    target = parse_target(f"openai-compat:{base_url}#bench-{concurrency}-{latency_ms}")
    transport = TransportConfig(concurrency=concurrency, timeout_s=60)
    plan = audit.prepare(bank, [target], ["en"], GenerationConfig(max_tokens=64), transport)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db")
        start = time.perf_counter()
        progress = run_async(audit.execute_plan(store, plan))
        elapsed = time.perf_counter() - start
        assert progress.outcomes.get("ok", 0) == items, progress.outcomes
        store.close()
    return items / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", default="1,8,64,256")
    ap.add_argument("--latency-ms", default="0,200")
    ap.add_argument("--seconds", type=float, default=4.0, help="target duration of each measurement")
    args = ap.parse_args()
    print(f"{'latency':>8} {'conc':>5} {'items':>6} {'req/s':>9} {'ideal':>8} {'ratio':>6}")
    for latency in [float(x) for x in args.latency_ms.split(",")]:
        server = MockServer(latency_ms=latency)
        try:
            for conc in [int(x) for x in args.concurrency.split(",")]:
                ideal = conc / (latency / 1000) if latency else None
                expected_rate = ideal if ideal else 1500.0
                items = max(conc * 2, int(expected_rate * args.seconds))
                rate = measure(server.base_url, conc, latency, items)
                ideal_s = f"{ideal:8.0f}" if ideal else f"{'-':>8}"
                ratio_s = f"{rate / ideal:6.2f}" if ideal else f"{'-':>6}"
                print(f"{latency:8.0f} {conc:5d} {items:6d} {rate:9.1f} {ideal_s} {ratio_s}", flush=True)
        finally:
            server.close()


if __name__ == "__main__":
    main()
