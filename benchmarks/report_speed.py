"""How long a report takes, and how much memory, for 1k, 10k and 100k responses (with verdicts).

    python benchmarks/report_speed.py [--sizes 1000,10000,100000] [--formats html,md,json] [--keep DIR]
                                      [--browser]

Each size gets a synthetic store (4 targets x 4 languages, two judges, ~400-character answers); each
report is then written in a fresh Python process, which reports its wall time, CPU time and peak
resident memory (VmHWM), so one measurement cannot warm or bloat the next. On a shared machine the
CPU time is the steadier figure.

With ``--browser`` each HTML report is also opened in Debian's Chromium (Playwright): the time to its first
page of answers, to a first full-text search (which builds the search index) and to a second one, each
beside a bound measured in the same run: the same file opened with JavaScript off (reading and laying out
the file alone, which the page can never beat).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
t0, c0 = time.perf_counter(), time.process_time()
from glasnost.store import open_store
from glasnost.report import write_report
store = open_store(sys.argv[1])
run_id = store.list_runs()[0].run_id
out = write_report(store, [run_id], Path(sys.argv[2]), fmt=sys.argv[3])
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
# VmHWM is this process image's peak RSS; ru_maxrss would carry the parent's peak across fork+exec.
try:
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": hwm, "bytes": out.stat().st_size}))
"""


def build(db: Path, responses: int) -> float:
    from glasnost.store import open_store
    from glasnost.testing.synthetic import synthetic_run

    t0 = time.perf_counter()
    with open_store(db) as store:
        synthetic_run(store, responses, targets=4, langs=("en", "zh-Hans", "ru", "es"),
                      judges=("default@1", "other@1"), seed=1)
    return time.perf_counter() - t0


def measure(db: Path, out: Path, fmt: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(db), str(out), fmt], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"report failed for {db} ({fmt}): {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def browser_times(report: Path) -> dict:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            plain = b.new_context(java_script_enabled=False).new_page()
            t0 = time.perf_counter()
            plain.goto(report.as_uri(), wait_until="load", timeout=300_000)
            floor = time.perf_counter() - t0
            page = b.new_context(viewport={"width": 1440, "height": 900}).new_page()
            t0 = time.perf_counter()
            page.goto(report.as_uri(), wait_until="load", timeout=300_000)
            page.wait_for_selector("#view article.concept", timeout=300_000)
            first = time.perf_counter() - t0
            searches = []
            for query in ("documented", "killed"):
                t0 = time.perf_counter()
                page.fill("#f-search", query)
                page.wait_for_function(f"() => document.getElementById('f-count').textContent && "
                                       f"location.hash.includes('q={query}')", timeout=300_000)
                searches.append(time.perf_counter() - t0 - 0.2)  # less the input's 200 ms debounce
        finally:
            b.close()
    return {"js_off_s": floor, "first_page_s": first, "first_search_s": searches[0], "search_s": searches[1]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--formats", default="html,md,json")
    ap.add_argument("--keep", type=Path, help="keep stores and reports in this folder")
    ap.add_argument("--browser", action="store_true", help="also time the HTML reports in Chromium")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    formats = [f for f in args.formats.split(",") if f.strip()]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="glasnost-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    print(f"{'responses':>10} {'format':>6} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'size MB':>8}")
    for size in sizes:
        db = folder / f"bench-{size}.db"
        if not db.exists():
            built = build(db, size)
            print(f"# built a store of ~{size} responses in {built:.1f} s", file=sys.stderr)
        for fmt in formats:
            r = measure(db, folder / f"report-{size}.{fmt}", fmt)
            rows.append({"responses": size, "format": fmt, **r})
            print(f"{size:>10} {fmt:>6} {r['wall_s']:>8.2f} {r['cpu_s']:>8.2f} {r['peak_rss_mib']:>9.0f} "
                  f"{r['bytes'] / 1e6:>8.1f}", flush=True)
            if args.browser and fmt == "html":
                t = browser_times(folder / f"report-{size}.html")
                rows[-1].update(t)
                print(f"{'':>10} browser: first page {t['first_page_s']:.2f} s = {t['first_page_s'] / t['js_off_s']:.1f}"
                      f" x the file with JavaScript off ({t['js_off_s']:.2f} s); first search "
                      f"{t['first_search_s']:.2f} s, next search {t['search_s']:.2f} s", flush=True)
    if not args.keep:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    print(json.dumps(rows), file=sys.stderr)


if __name__ == "__main__":
    main()
