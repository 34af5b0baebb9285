"""glasnost bank: list, show, validate, count, export and import question banks (parsing and printing only)."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from glasnost.cli.common import console, is_stdout, opt, split_csv
from glasnost.errors import ConfigError

if TYPE_CHECKING:
    from glasnost.bank.load import Bank
    from glasnost.records import Concept

KIND_HEADER = {"knowledge": "know", "criticism": "crit", "mcq": "mcq", "indirect": "indir", "control": "ctrl"}
BANK_HELP = "Bank: core, quick, core:cn, core:cn+ru:knowledge, or a YAML file or folder."

bank_app = typer.Typer(
    name="bank",
    help="The question bank: list, show, validate, stats, export, import.",
    no_args_is_help=True,
    add_completion=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(bank_app, name="bank")


@bank_app.command("list")
def list_banks() -> None:
    """The built-in bank and its named subsets, with concept and probe counts."""
    from glasnost.bank.load import load_bank

    core = load_bank("core")
    table = Table(title=f"built-in banks (version {core.version})", title_justify="left")
    for col in ("bank", "concepts", "probes", "jurisdictions", "languages", "fingerprint"):
        table.add_column(col, justify="left" if col in ("bank", "fingerprint") else "right")
    for name in ["core", *sorted(getattr(core, "subsets", {}) or {})]:
        b = core if name == "core" else load_bank(name)
        ref = b.ref()
        table.add_row(name, str(ref.concepts), str(ref.probes), str(len({c.jurisdiction for c in b.concepts})),
                      str(len(b.languages)), ref.fingerprint[:12])
    console.print(table)
    jurs = sorted({c.jurisdiction for c in core.concepts})
    print(f"narrow with selectors: core:cn, core:mcq, core:cn+ru:knowledge; jurisdictions: {', '.join(jurs)}")


@bank_app.command("show")
def show(
    id_or_spec: str = typer.Argument(..., metavar="ID_OR_SPEC", help="A concept id, or a bank spec to summarise."),
    bank: str = opt("core", "--bank", "-b", help="Where to look up a concept id. " + BANK_HELP),
) -> None:
    """Show one concept (variants, facts, mirrors, sources) or summarise a bank."""
    from glasnost.bank.load import load_bank

    source = load_bank(bank)
    concept = source.by_id.get(id_or_spec)
    if concept is not None:
        _print_concept(concept, source)
        return
    try:
        other = load_bank(id_or_spec)
    except ConfigError as exc:
        near = difflib.get_close_matches(id_or_spec, list(source.by_id), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(near)}?" if near else f" ({exc})"
        raise ConfigError(
            f"{id_or_spec!r} is neither a concept id of bank {source.name} nor a bank spec{hint}"
        ) from None
    _print_summary(other)


@bank_app.command("validate")
def validate(
    path: Optional[Path] = typer.Argument(None, help="Bank folder or YAML file (default: the built-in bank)."),
    warnings: bool = opt(True, "--warnings/--no-warnings", help="Also list warnings (balance rules, suspicious data)."),
    strict: bool = opt(False, "--strict", help="Fail on warnings too."),
) -> None:
    """Check a bank and list every problem as file:line: message; exit 1 when there are errors."""
    from glasnost.bank.validate import validate_bank

    report = validate_bank(path)
    for issue in report.errors:
        print(issue)
    if warnings:
        for issue in report.warnings:
            print(issue)
    print(report.summary())
    if not report.ok or (strict and report.warnings):
        raise typer.Exit(1)


@bank_app.command("stats")
def stats(
    bank: str = opt("core", "--bank", "-b", help=BANK_HELP),
    as_json: bool = opt(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Counts by jurisdiction, kind, language and topic, and the balance figures (mirrors, alias echo, mcq cues)."""
    from glasnost.bank.load import KINDS, load_bank
    from glasnost.bank.stats import bank_stats

    data = bank_stats(load_bank(bank))
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    print(
        f"bank {data['bank']} {data['version']}: {data['concepts']} concepts, {data['probes']} probes, "
        f"{len(data['by_jurisdiction'])} jurisdictions, {len(data['by_language'])} languages, "
        f"{len(data['by_topic'])} topics; fingerprint {data['fingerprint']}"
    )
    jt = Table(title="by jurisdiction", title_justify="left")
    # Short headers: the table fits 80 columns, the width rich assumes when output is not a terminal.
    for col in ("jur", "concepts", "probes", *(KIND_HEADER[k] for k in KINDS), "langs"):
        jt.add_column(col, justify="left" if col == "jur" else "right", no_wrap=True)
    for jur, v in data["by_jurisdiction"].items():
        jt.add_row(Text(jur), str(v["concepts"]), str(v["probes"]), *(str(v["kinds"].get(k, "")) for k in KINDS),
                   str(len(v["languages"])))
    jt.add_row("total", str(data["concepts"]), str(data["probes"]),
               *(str(data["by_kind"].get(k, {}).get("concepts", "")) for k in KINDS),
               str(len(data["by_language"])), style="bold")
    console.print(jt)
    _print_balance(data["balance"])
    lt = Table(title="probes by language", title_justify="left")
    lt.add_column("language")
    lt.add_column("probes", justify="right")
    for lang, n in data["by_language"].items():
        lt.add_row(Text(lang), str(n))
    console.print(lt)
    tt = Table(title="by topic", title_justify="left")
    for col in ("topic", "concepts", "probes", "kinds"):
        tt.add_column(col, justify="right" if col in ("concepts", "probes") else "left")
    for key, v in data["by_topic"].items():
        tt.add_row(Text(key), str(v["concepts"]), str(v["probes"]), ", ".join(f"{k} {n}" for k, n in v["kinds"].items()))
    console.print(tt)


@bank_app.command("export")
def export(
    fmt: str = opt("jsonl", "--format", "-f", help="jsonl or csv."),
    bank: str = opt("core", "--bank", "-b", help=BANK_HELP),
    out: Optional[Path] = opt(None, "--out", "-o", help="Output file (default, or '-': standard output)."),
    lang: Optional[str] = opt(None, "--lang", "-l", help="Only these comma-separated languages."),
    kinds: Optional[str] = opt(None, "--kinds", help="Only these kinds (knowledge,criticism,indirect,mcq,control)."),
) -> None:
    """One row per probe (concept id, jurisdiction, topic, kind, lang, text, bank fingerprint)."""
    from glasnost.bank.export import FORMATS, probe_rows, write_rows
    from glasnost.bank.load import KINDS, bank_source_files, load_bank

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    unknown = sorted(set(split_csv(kinds) or []) - set(KINDS))
    if unknown:
        raise ConfigError(f"--kinds: unknown kind {', '.join(unknown)}; use {', '.join(KINDS)}")
    the_bank = load_bank(bank)
    rows = probe_rows(the_bank, split_csv(lang), split_csv(kinds))
    if is_stdout(out):
        out = None
    if out is None:
        n = write_rows(rows, fmt, sys.stdout)
        where = "standard output"
    else:
        from glasnost.outfile import write_atomically

        def write(tmp: Path) -> int:
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                return write_rows(rows, fmt, fh)

        # Atomic, and never over a file of the bank being exported.
        n = write_atomically(out, write, protect=bank_source_files(bank))
        where = str(out)
    # On stdout the data stream stays clean: the fingerprint goes to stderr.
    print(f"exported {n} probes of bank {the_bank.name} to {where}; fingerprint {the_bank.fingerprint}",
          file=sys.stderr if out is None else sys.stdout)


@bank_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The prompt set to import."),
    fmt: str = opt(..., "--format", "-f", help="promptfoo-csv (columns subject,prompt), csv or jsonl."),
    out: Path = opt(..., "--out", "-o", help="The bank YAML to write."),
    jurisdiction: Optional[str] = opt(
        None, "--jurisdiction", help="Default jurisdiction (promptfoo-csv: CN, else XX)."
    ),
    lang: str = opt("en", "--lang", help="Default language of the prompts (BCP-47)."),
    name: Optional[str] = opt(None, "--name", help="Bank name (default: from the file name)."),
    source_title: Optional[str] = opt(None, "--source-title", help="Title of the prompt set, for attribution."),
    source_url: Optional[str] = opt(None, "--source-url", help="Where the prompt set is published."),
    publisher: Optional[str] = opt(None, "--publisher", help="Who published the prompt set."),
    licence: Optional[str] = opt(None, "--licence", help="Licence of the prompts (e.g. CC-BY-4.0)."),
) -> None:
    """Make a bank YAML from a public prompt set; use it with --bank PATH."""
    from glasnost.bank.importers import FORMATS, PROMPTFOO, DataSource, import_prompts, write_bank
    from glasnost.bank.validate import validate_bank

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if is_stdout(out):  # validated as a file and used with --bank PATH: it must be one
        raise ConfigError("--out - is not supported by bank import: a bank is a YAML file; give a path ending .yaml")
    source = None
    if source_title or source_url or publisher or licence:
        base = PROMPTFOO if fmt == "promptfoo-csv" else DataSource(title=f"imported from {file.name}")
        source = DataSource(title=source_title or base.title, url=source_url or base.url,
                            publisher=publisher or base.publisher, licence=licence or base.licence)
    from glasnost.outfile import check_out_path

    check_out_path(out, protect=[file])  # the prompt set read is never replaced by the bank written
    imported = import_prompts(file, fmt, jurisdiction=jurisdiction, lang=lang, source=source, name=name)
    write_bank(imported, out, origin=file.name, protect=[file])
    report = validate_bank(out)
    for issue in report.errors:
        print(issue)
    print(
        f"wrote {len(imported.concepts)} concepts from {imported.rows} rows to {out} "
        f"({imported.duplicates} duplicate rows skipped); {report.summary()}"
    )
    if not report.ok:
        raise typer.Exit(1)


def _print_balance(b: dict[str, Any]) -> None:
    """The fairness figures of `bank stats` (computed by glasnost.bank.stats.balance)."""
    mcq, off, echo = b["mcq_longest_correct"], b["mcq_longest_official"], b["alias_echo"]
    short = b["mcq_shortest_correct"]
    mirrors = b["mirrors_per_concept"]

    def pct(share: float | None) -> str:
        return "" if share is None else f"{share:.0%}"

    print(f"balance: alias echo {echo['aliases']} aliases in {echo['concepts']} concepts; of {mcq['probes']} mcq probes "
          f"the correct option is the longest in {mcq['longest']} ({pct(mcq['share'])}), the official-line one in "
          f"{off['longest']} ({pct(off['share'])}) (chance 25%, at most 35% per language); the correct one the "
          f"shortest in {short['shortest']} ({pct(short['share'])}, at most 50%); mirrors per sensitive "
          f"concept {mirrors['mean']} ({mirrors['without_mirrors']} without)")
    bt = Table(title="balance by jurisdiction", title_justify="left")
    for col in ("jur", "concepts", "mirrors", "echo", "mcq", "correct", "official"):
        bt.add_column(col, justify="left" if col == "jur" else "right", no_wrap=True)
    for jur, n in b["concepts_per_state"].items():
        m, o = mcq["by_state"].get(jur), off["by_state"].get(jur)
        mean = mirrors["by_state"].get(jur)
        bt.add_row(Text(jur), str(n), "" if mean is None else f"{mean:.2f}",
                   str(echo["by_state"].get(jur, {}).get("concepts", 0)), str(m["probes"]) if m else "",
                   pct(m["share"]) if m else "", pct(o["share"]) if o else "")
    console.print(bt)


def _print_concept(c: "Concept", bank: "Bank") -> None:
    head = Text(c.id, style="bold")
    head.append(f"  {c.jurisdiction} · {c.topic} · {c.kind} · sensitivity {c.sensitivity}", style="")
    if c.id in bank.files:
        head.append(f"  ({bank.files[c.id]})", style="dim")
    console.print(head)
    variants = Table(title="variants", title_justify="left", show_header=False)
    variants.add_column("lang", style="bold")
    variants.add_column("text")
    for lang, text in c.variants.items():  # bank text (maybe imported from a public prompt set) is not markup
        variants.add_row(Text(lang), Text(text))
    console.print(variants)
    if c.facts:
        facts = Table(title="facts", title_justify="left")
        for col in ("id", "fact", "aliases"):
            facts.add_column(col)
        for f in c.facts:
            dated = f" (as of {f.as_of})" if f.as_of else ""
            facts.add_row(Text(f.id), Text(f.text + dated),
                          Text("\n".join(f"{k}: {', '.join(v)}" for k, v in f.aliases.items())))
        console.print(facts)
    if c.narrative:
        console.print(Text("narrative markers", style="bold"))
        for lang, markers in c.narrative.items():
            console.print(Text(f"  {lang}: {' | '.join(markers)}"))
    if c.mcq:
        console.print(Text("multiple choice", style="bold"))
        first = c.languages[0] if c.languages else "en"
        for i, o in enumerate(c.mcq.options):
            line = f"  {'✓' if o.correct else ' '} {chr(65 + i)}. {o.text.get(first, '')}"
            console.print(Text(line + ("  (official line)" if o.official else "")))
    for field_name in ("mirrors", "control"):
        refs: list[str] = getattr(c, field_name)
        if refs:
            console.print(Text(field_name, style="bold"))
            for ref in refs:
                target = bank.by_id.get(ref)
                note = f"{target.jurisdiction} · {target.kind}" if target else "not in this bank"
                console.print(Text(f"  {ref}  ({note})"))
    if c.prefill:
        console.print(Text(f"prefill pairs: {len(c.prefill)}", style="bold"))
    if c.sources:
        console.print(Text("sources", style="bold"))
        for s in c.sources:
            console.print(Text(f"  {s.title}" + (f" <{s.url}>" if s.url else "")))
    if c.tags:
        console.print(Text(f"tags: {', '.join(c.tags)}"))


def _print_summary(b: "Bank") -> None:
    from glasnost.bank.stats import bank_stats

    data: dict[str, Any] = bank_stats(b)
    print(f"bank {b.name} {b.version}")
    print(f"  fingerprint {data['fingerprint']}")
    print(f"  {data['concepts']} concepts, {data['probes']} probes")
    print("  jurisdictions: " + ", ".join(f"{j} {v['concepts']}" for j, v in data["by_jurisdiction"].items()))
    print("  kinds: " + ", ".join(f"{k} {v['concepts']}" for k, v in data["by_kind"].items()))
    print("  languages (probes): " + ", ".join(f"{k} {n}" for k, n in data["by_language"].items()))

