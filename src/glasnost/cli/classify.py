"""glasnost classify: judge transcripts in the corpus schema, one output line per input line (streaming)."""

from __future__ import annotations

import gzip
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import typer

from glasnost.cli.common import err_console, opt, safe


def register(app: typer.Typer) -> None:
    @app.command("classify")
    def classify(
        input_path: Path = typer.Argument(..., help="Transcripts, JSONL or JSONL.gz, in the corpus schema."),
        out: Path = opt(..., "--out", "-o", help="Output JSONL (.gz compresses); '-' writes to stdout."),
        strict: bool = opt(False, "--strict", help="Stop at the first malformed line (non-zero exit)."),
        bank: str = opt("core", "--bank", "-b",
                        help="Link rows to this bank's concepts (by concept_id, or by a prompt that is one of "
                             "its probes word for word) so the facts layer can judge them; 'none' to skip."),
    ) -> None:
        """Classify transcripts with the offline judge: {"id", "label", "attributes", "evidence", "judge"} per line.

        Reads id, prompt, response, reasoning, finish_reason, refusal_field, error, lang and concept_id; other
        fields are ignored. Memory stays flat however large the input."""
        from glasnost.errors import ConfigError
        from glasnost.judge import OfflineJudge
        from glasnost.judge.corpus import BadLine, item_from_row, iter_rows

        if not input_path.exists():
            raise ConfigError(f"{input_path}: no such file")
        if str(out) != "-":
            from glasnost.outfile import check_out_path

            check_out_path(out, protect=[input_path])  # `classify X -o X` would empty X
        linker = _linker(bank)
        judge = OfflineJudge()
        bad: list[int] = []

        def on_bad(b: BadLine) -> None:
            bad.append(b.line)
            err_console.print(f"{safe(input_path)}:{b.line}: skipped: {safe(b.reason)}", highlight=False)

        n = linked = 0
        counts: dict[str, int] = {}
        with _open_out(out, protect=[input_path]) as fh:
            for _, row in iter_rows(input_path, strict=strict, on_bad=on_bad):
                item = item_from_row(row)
                link = linker.link(row) if linker is not None else None
                if link is not None:
                    item.concept, item.lang = link.concept, link.lang
                    linked += 1
                v = judge.judge_item(item)
                line = {
                    "id": row["id"],
                    "label": v.label.value,
                    "concept": link.concept.id if link is not None else None,
                    "status": v.status,
                    "attributes": v.attributes.model_dump(mode="json"),
                    "evidence": [e.model_dump(mode="json", exclude_none=True) for e in v.evidence],
                    "judge": v.judge,
                }
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                counts[v.label.value] = counts.get(v.label.value, 0) + 1
                n += 1
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        err_console.print(f"classified {n} responses ({summary or 'none'}); {linked} linked to bank concepts; "
                          f"skipped {len(bad)} malformed line(s)")
        if n == 0:
            raise ConfigError(f"{input_path}: no line could be classified; is it JSONL in the corpus schema?")


def _linker(spec: str):
    if spec.strip().lower() in ("", "none"):
        return None
    from glasnost.bank import load_bank
    from glasnost.judge.link import BankLinker

    return BankLinker(load_bank(spec).concepts)


class _Stdout:
    def __enter__(self):
        return sys.stdout

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()


@contextmanager
def _open_out(path: Path, protect: list[Path]) -> Iterator[IO[str]]:
    """The output stream: stdout for '-', else a temporary file renamed over ``path`` only when every line is
    written (a killed or failed classify leaves no partial output, and the previous file intact)."""
    if str(path) == "-":
        with _Stdout() as fh:
            yield fh
        return
    from glasnost.outfile import atomic_path

    with atomic_path(path, protect=protect) as tmp:
        if str(path).endswith(".gz"):
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                yield fh
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                yield fh
