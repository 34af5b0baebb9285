"""glasnost bundle: export a run as a signed bundle, verify anyone's bundle, import one into the store."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from glasnost.cli.common import db_option, is_stdout, open_store, opt


def _trust(value: str | None) -> dict[str, str] | None:
    from glasnost.bundle.verify import load_trust_arg

    return load_trust_arg(value)


def register(app: typer.Typer) -> None:
    bundle = typer.Typer(help="Signed audit bundles: export, verify, import.", no_args_is_help=True)
    app.add_typer(bundle, name="bundle")

    @bundle.command("export")
    def export(
        run: str = typer.Argument(..., help="Run id (or a unique prefix), see `glasnost runs`."),
        out: Path = opt(..., "--out", "-o", help="The bundle file to write (.tar.gz); '-' for standard output."),
        judge: str = opt(None, "--judge", help="Judge (id@version, or id for its latest version) whose verdicts to "
                         "publish; default: the latest default@*, else the run's only judge (as in report)."),
        db: Path = db_option(),
    ) -> None:
        """Write one run (manifest, bank, responses, verdicts, summary) as a signed, reproducible archive."""
        from glasnost.bundle.export import export_run, write_bytes_atomic
        from glasnost.bundle.keys import config_dir, load_key, printable

        from glasnost.bundle.errors import BundleError
        from glasnost.outfile import check_out_path, store_files

        to_stdout = is_stdout(out)
        if not to_stdout:
            check_out_path(out, BundleError, protect=store_files(db))  # before any work: never over the store
        key = load_key()
        from glasnost.store import is_url

        local = [] if is_url(db) else [Path(db).parent, Path(db)]  # local paths a bundle must not reveal
        extra = [*local, config_dir()] + ([] if to_stdout else [out.parent])
        store = open_store(db)
        try:
            result = export_run(store, run, key, judge, extra_paths=extra)
        finally:
            store.close()
        if to_stdout:  # the archive alone on stdout; what it is goes to stderr
            sys.stdout.buffer.write(result.data)
            sys.stdout.flush()
        else:
            write_bytes_atomic(out, result.data, protect=store_files(db))
        judged = f"verdicts by {result.judge}" if result.judge else "no verdicts (run `glasnost judge` to add labels)"
        said = sys.stderr if to_stdout else sys.stdout
        print(f"wrote {out}: {result.responses} responses, {result.verdicts} {judged}", file=said)
        print(f"root: {result.root}", file=said)
        print(f"signed by {printable(key.name)} ({key.fingerprint[:16]})", file=said)

    @bundle.command("verify")
    def verify(
        file: Path = typer.Argument(..., help="A bundle file."),
        trust: str = opt(None, "--trust", help="Require this signer: a key fingerprint (64 hex digits, as printed "
                         "here) or a file of trusted public keys (`ed25519 <key> <name>` lines). Without it, "
                         "the signer is checked against GLASNOST_CONFIG_DIR/trusted_keys and reported."),
    ) -> None:
        """Check every hash, the signature, the bank fingerprint, and recompute the summary; name the signer's key
        and say whether you trust it."""
        from glasnost.bundle.verify import default_trust, verify_file

        vb = verify_file(file, _trust(trust))
        if vb.trusted_as is None:
            vb.trusted_as = default_trust().get(vb.fingerprint)
        print(vb.line())
        print(vb.signer_line())

    @bundle.command("import")
    def import_(
        file: Path = typer.Argument(..., help="A bundle file."),
        trust: str = opt(None, "--trust", help="Import only bundles signed by this key (a fingerprint, or a file of keys)."),
        db: Path = db_option(),
    ) -> None:
        """Verify a bundle, then load it into the store (de-duplicated, with provenance, conflicts kept apart)."""
        from glasnost.bundle.importer import import_bundle
        from glasnost.bundle.keys import printable
        from glasnost.bundle.verify import verify_file

        vb = verify_file(file, _trust(trust))
        print(vb.line())
        store = open_store(db, create=True)
        try:
            result = import_bundle(store, vb)
        finally:
            store.close()
        if result.already:
            print(f"already imported as run {printable(result.run_id)}; nothing changed")
            return
        print(
            f"imported run {printable(result.run_id)} from {printable(result.auditor)}: {result.added} new responses, "
            f"{result.duplicates} already stored, {result.replaced_errors} stored errors replaced, "
            f"{result.verdicts_added} verdicts added"
        )
        if result.conflicts:
            print(f"{len(result.conflicts)} conflicts kept apart (stored records were not changed):")
            for c in result.conflicts[:20]:
                extra = f" by judge {printable(c['judge'])}" if c["judge"] else ""
                print(f"  {c['kind']} {printable(c['key'][:16])}{extra}")
            if len(result.conflicts) > 20:
                print(f"  ... and {len(result.conflicts) - 20} more")
