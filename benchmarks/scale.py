"""Scale-out: the same plan against the mock server with latency, on the plain runner and on 1, 2 and 4 Ray
workers, against SQLite and PostgreSQL.

    python benchmarks/scale.py [--items 480] [--latency-ms 100] [--concurrency 16] [--workers 1,2,4]
                               [--pg postgresql://HOST/DB]

Every configuration asks the same plan into a fresh store with the same per-endpoint concurrency C (divided
among the Ray workers), so the ideal is the same for all: C / latency requests per second. It prints requests
per second and their ratio to that ideal; the time counted is the whole execution (plan saved, workers
started, every response committed), not the start of the Ray cluster and its worker processes (once,
before; the cold start is printed). Without --pg it starts
a throwaway PostgreSQL cluster (tests/pg_cluster.py) when Debian's binaries are there.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers_runner import MockServer  # noqa: E402
from runner_throughput import synthetic_bank  # noqa: E402

from glasnost.records import GenerationConfig, TransportConfig  # noqa: E402
from glasnost.run import audit  # noqa: E402
from glasnost.run.loop import run_async  # noqa: E402
from glasnost.store import open_store  # noqa: E402
from glasnost.targets.spec import parse_target  # noqa: E402


def measure(db: str, base_url: str, items: int, concurrency: int, workers: int | None) -> float:
    """Seconds to execute the plan into ``db``; workers None: the plain runner in this process."""
    from glasnost.run.ray_executor import RayExecutor

    plan = audit.prepare(synthetic_bank(items), [parse_target(f"openai-compat:{base_url}#bench")], ["en"],
                         GenerationConfig(max_tokens=64), TransportConfig(concurrency=concurrency, timeout_s=60))
    executor = RayExecutor(db, workers=workers) if workers else None
    with open_store(db) as store:
        start = time.perf_counter()
        progress = run_async(audit.execute_plan(store, plan, executor=executor))
        elapsed = time.perf_counter() - start
    assert progress.done == items, progress
    return elapsed


def warm_up(workers: int) -> float:
    """Start the Ray worker processes once (importing glasnost there), so each configuration measures the
    run, not process start-up on this machine; returns how long that took (reported)."""
    import ray

    @ray.remote(num_cpus=0.25)
    def ready() -> None:
        import glasnost.run.execute  # noqa: F401
        import glasnost.targets.openai_compat  # noqa: F401

        time.sleep(1.0)  # held at once, so that each lands in its own process

    start = time.perf_counter()
    ray.get([ready.remote() for _ in range(workers)])
    return time.perf_counter() - start - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=480)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--pg", default=os.environ.get("GLASNOST_BENCH_PG"))
    args = parser.parse_args()
    import ray

    cluster = None
    pg = args.pg
    if pg is None:
        from pg_cluster import PASSWORD, pg_bin, start_cluster

        if pg_bin() is not None:
            cluster = start_cluster(pg_bin())
            os.environ["PGPASSWORD"] = PASSWORD  # before Ray starts: its workers inherit it
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             object_store_memory=100 * 2**20)
    cold = warm_up(max(int(w) for w in args.workers.split(",")))
    server = MockServer(latency_ms=args.latency_ms)
    ideal = args.concurrency / (args.latency_ms / 1000)
    print(f"{args.items} items, latency {args.latency_ms:g} ms, concurrency {args.concurrency} per endpoint "
          f"(cluster-wide): ideal {ideal:.0f} requests/s")
    print(f"Ray worker processes, cold start (measured once, then excluded): {cold:.1f} s")
    print("| store | executor | seconds | requests/s | ratio to ideal |")
    print("|---|---|---:|---:|---:|")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stores = {"SQLite": lambda i: str(Path(tmp) / f"s{i}.db")}
            if cluster is not None or pg:
                stores["PostgreSQL"] = (lambda i: cluster.create_database()) if cluster else (lambda i: pg)
            configs = [None] + [int(w) for w in args.workers.split(",")]
            for name, location in stores.items():
                for i, workers in enumerate(configs):
                    db = location(i)
                    seconds = measure(db, server.base_url, args.items, args.concurrency, workers)
                    rps = args.items / seconds
                    label = "plain runner" if workers is None else f"Ray, {workers} worker{'s' * (workers > 1)}"
                    print(f"| {name} | {label} | {seconds:.2f} | {rps:.0f} | {rps / ideal:.2f} |", flush=True)
    finally:
        server.close()
        ray.shutdown()
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
