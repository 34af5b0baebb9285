"""glasnost keys: the auditor's Ed25519 key pair that signs exported bundles."""

from __future__ import annotations

import typer

from glasnost.cli.common import opt


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="The auditor key that signs bundles (in GLASNOST_CONFIG_DIR or ~/.config/glasnost).",
                       no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("init")
    def init(
        name: str = opt(None, "--name", help="The name others see on your bundles (default: anonymous)."),
        force: bool = opt(False, "--force", help="Replace an existing key (the old one is kept beside it)."),
    ) -> None:
        """Create an Ed25519 key pair; the private key is written with mode 0600 and never printed."""
        from glasnost.bundle.keys import DEFAULT_NAME, init_key, printable

        key, path = init_key(name, force=force)
        print(f"created auditor key {printable(key.name)!r} in {path.parent}")
        print(f"fingerprint: {key.fingerprint}")
        print(f"public key: {printable(key.pub_line())}")
        if key.name == DEFAULT_NAME:
            print("hint: bundles will be signed as 'anonymous'; `glasnost keys init --force --name NAME` to name them")

    @keys.command("show")
    def show() -> None:
        """Print the public key (a line for others' trust files), its fingerprint and the name."""
        from glasnost.bundle.keys import keys_dir, load_key, printable

        key = load_key()
        print(f"name: {printable(key.name)}")
        print(f"fingerprint: {key.fingerprint}")
        print(f"public key: {printable(key.pub_line())}")
        print(f"folder: {keys_dir()}")
