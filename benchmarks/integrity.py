"""Figures for "numbers that can be trusted" (issue 11): kill -9, two processes, a faulty server (a benchmark,
not a test; it prints figures, it asserts nothing).

    python benchmarks/integrity.py [--items 600] [--latency-ms 150] [--kills 10] [--seed 11]

Against the bundled mock server (python -m glasnost.testing.mock_openai, in its own process), with
``glasnost run`` in real subprocesses at concurrency 32:

1. kill -9 at ``--kills`` random moments of one run (when the store holds a random number of its items),
   each restart resuming it, then a last run to the end:
   items lost (not stored), keys stored twice, prompts answered twice by the server, and wasted requests
   (received by the server but never stored: those in flight at each kill).
2. two processes started together on one fresh run: requests at the server / items (1.0 is no waste).
3. a server failing 30 % of requests (HTTP 500, no retries), then the same command again until no error is
   left: errors left after each pass, stale verdicts in the store and used by the report (must be 0), the
   report's n against the answers stored, and the `error` count in an exported bundle's summary.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def write_bank(path: Path, concepts: int) -> Path:
    rows = [{"id": f"xx.topic-{i}.knowledge", "jurisdiction": "CN" if i % 2 else "US", "topic": f"topic-{i}",
             "kind": "knowledge", "variants": {"en": f"Question {i} in en?", "zh-Hans": f"问题 {i}？"},
             "facts": [{"id": "f", "text": "a fact", "aliases": {"en": [f"fact{i}"], "zh-Hans": [f"事实{i}"]}}],
             "sources": [{"title": "benchmark"}]} for i in range(concepts)]
    path.write_text(yaml.safe_dump({"name": "integrity", "version": "1", "concepts": rows}, allow_unicode=True))
    return path


class Mock:
    def __init__(self, latency_ms: float, rules: list | None, folder: Path):
        args = [sys.executable, "-m", "glasnost.testing.mock_openai", "--latency-ms", str(latency_ms)]
        if rules:
            (folder / "rules.json").write_text(json.dumps(rules))
            args += ["--rules", str(folder / "rules.json")]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.base = line.split()[-1].removesuffix("/v1")

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.base}/stats", timeout=10) as r:
            return json.loads(r.read())

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "glasnost.cli.main", *args]


def run_args(mock: Mock, bank: Path, db: Path, *extra: str) -> list[str]:
    return cli("run", "--target", f"openai-compat:{mock.base}/v1#mock", "--bank", str(bank), "--lang", "en,zh-Hans",
               "--db", str(db), "--concurrency", "32", *extra)


def stored(db: Path) -> tuple[int, int]:
    """(rows, distinct keys) in the store's responses."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:  # not created yet
        return 0, 0
    try:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM responses").fetchone()
    except sqlite3.Error:
        return 0, 0
    finally:
        con.close()


def kill_and_resume(folder: Path, items: int, latency: float, kills: int, rng: random.Random) -> dict:
    bank = write_bank(folder / "bank.yaml", items // 2)
    db = folder / "kill.db"
    mock = Mock(latency, None, folder)
    try:
        args = run_args(mock, bank, db, "--judge", "none", "--report", "")
        # ten random moments of the run, as points of its progress, so that every kill lands mid-run
        moments = sorted(rng.sample(range(1, items), kills))
        for moment in moments:
            child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while stored(db)[0] < moment and child.poll() is None:
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait()
        before_final = stored(db)[0]
        final = subprocess.run(args, capture_output=True, text=True)
        rows, keys = stored(db)
        st = mock.stats()
        received, answered = sum(st["received"].values()), st["answered"]
        return {
            "items": items, "kills": kills, "killed_at_stored": moments, "stored_before_last_run": before_final,
            "last_run_exit": final.returncode, "lost": items - keys, "keys_stored_twice": rows - keys,
            "prompts_answered_twice": sum(1 for n in answered.values() if n > 1),
            "requests": received, "wasted_requests": received - items,
            "wasted_per_kill": round((received - items) / kills, 1),
        }
    finally:
        mock.close()


def two_processes(folder: Path, items: int, latency: float) -> dict:
    bank = write_bank(folder / "bank2.yaml", items // 2)
    db = folder / "two.db"
    mock = Mock(latency, None, folder)
    try:
        args = run_args(mock, bank, db, "--judge", "none", "--report", "")
        procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate()[0].strip().splitlines()[-1] for p in procs]
        received = sum(mock.stats()["received"].values())
        return {"items": items, "requests": received, "requests_per_item": round(received / items, 4),
                "exit_codes": [p.returncode for p in procs], "printed": outs, "lost": items - stored(db)[1]}
    finally:
        mock.close()


def faulty(folder: Path, items: int, latency: float) -> dict:
    from glasnost.bundle.export import export_run
    from glasnost.bundle.keys import generate
    from glasnost.bundle.archive import read_members
    from glasnost.store.sqlite import SQLiteStore

    bank = write_bank(folder / "bank3.yaml", items // 2)
    db = folder / "faulty.db"
    mock = Mock(latency, [{"probability": 0.3, "status": 500}], folder)
    passes = []
    try:
        for i in range(8):
            report = folder / f"report-{i}.json"
            result = subprocess.run(run_args(mock, bank, db, "--max-retries", "0", "--judge", "default",
                                             "--report", str(report)), capture_output=True, text=True)
            doc = json.loads(report.read_text())
            n = sum(rate["n"] for rate in doc["analysis"]["overall"].values())
            with SQLiteStore(db) as store:
                run_id = store.list_runs()[0].run_id
                outcomes = store.outcome_counts(run_id)
                answers = sum(v for k, v in outcomes.items() if k != "error")
                stale = store.stale_verdicts(run_id)
                used_stale = sum(1 for v in store.iter_verdicts(run_id)
                                 if v.response_digest != store.response_digests([v.response_key])[v.response_key])
            judged = next((ln for ln in result.stdout.splitlines() if ln.startswith("judge ")), "")
            passes.append({"pass": i + 1, "exit": result.returncode, "errors_left": outcomes.get("error", 0),
                           "judge_printed": judged.split(": ", 1)[-1],
                           "answers_stored": answers, "report_n": n, "stale_verdicts_in_store": stale,
                           "stale_verdicts_used": used_stale})
            if not outcomes.get("error"):
                break
        with SQLiteStore(db) as store:
            members = read_members(export_run(store, run_id, generate("benchmark")).data)
        rows = json.loads(members["summary.json"])["rows"]
        return {"items": items, "fault_rate": 0.3, "passes": passes,
                "bundle_summary_error": sum(r["counts"].get("error", 0) for r in rows),
                "bundle_summary_n_counted": sum(r["n_counted"] for r in rows),
                "requests": sum(mock.stats()["received"].values())}
    finally:
        mock.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=600)
    ap.add_argument("--latency-ms", type=float, default=150.0)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--only", choices=["kill", "two", "faulty"], default=None)
    args = ap.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT / "src"))
    rng = random.Random(args.seed)
    out: dict = {"latency_ms": args.latency_ms, "concurrency": 32}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "kill"):
            out["kill9"] = kill_and_resume(folder, args.items, args.latency_ms, args.kills, rng)
        if args.only in (None, "two"):
            out["two_processes"] = two_processes(folder, args.items, args.latency_ms)
        if args.only in (None, "faulty"):
            out["faults_30pct"] = faulty(folder, args.items, args.latency_ms)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
