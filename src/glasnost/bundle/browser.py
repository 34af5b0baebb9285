"""The in-page bundle verifier: one script file that the leaderboard and report pages inline.

``verify_browser.js`` is generated from the independent verifier (``verifiers/js/core.mjs`` and
``schema-lite.mjs`` without their ``import``/``export`` lines, the published schemas, then
``verifiers/js/browser-glue.js``), so the page runs the very code the Node verifier runs; a test fails when
the copy is stale. A page includes it with

    from glasnost.bundle.browser import VERIFY_SECTION, script_tag, csp_script_source
    # CSP: "... script-src {csp_script_source()}"; body: VERIFY_SECTION + script_tag()
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from glasnost.bundle.schema import MEMBER_SCHEMAS, load

# The page elements the script looks for (ids fixed in verifiers/js/browser-glue.js).
VERIFY_SECTION = """<section id="glasnost-verify"><h2>Verify a bundle</h2>
<p>Choose or drop an audit bundle (<code>.tar.gz</code>): it is checked in this page, offline, with the browser's
own Ed25519 and SHA-256 (WebCrypto): every hash, the signature, the schemas and every summary figure, as
<code>glasnost bundle verify</code> does (without a trust file: compare the fingerprint yourself).</p>
<label for="glasnost-bundle-file">Bundle file</label>
<input type="file" id="glasnost-bundle-file" accept=".gz,.tgz,application/gzip">
<p id="glasnost-bundle-result" role="status" data-state=""></p></section>
"""


def build(core: str, schema_lite: str, glue: str, schemas: dict[str, Any] | None = None) -> str:
    """The browser script: the verifier's core and schema modules (without import/export), the published
    schemas, and the browser glue."""
    if schemas is None:
        schemas = {member: load(name) for member, name in MEMBER_SCHEMAS.items()}
    modules = [re.sub(r"^export ", "", re.sub(r"^import .*\n", "", m, flags=re.MULTILINE), flags=re.MULTILINE)
               for m in (core, schema_lite)]
    header = "// Generated from verifiers/js (core.mjs, schema-lite.mjs, browser-glue.js) and the bundle schemas; do not edit.\n"
    table = "const BUNDLE_SCHEMAS = " + json.dumps(schemas, sort_keys=True, ensure_ascii=True) + ";\n"
    return "(() => {\n\"use strict\";\n" + header + "\n".join(modules) + "\n" + table + glue + "})();\n"


def sources(js: Any) -> tuple[str, str, str]:
    """The three sources in verifiers/js (a pathlib folder)."""
    return tuple(
        (js / name).read_text(encoding="utf-8") for name in ("core.mjs", "schema-lite.mjs", "browser-glue.js")
    )  # type: ignore[return-value]


@lru_cache(maxsize=1)
def script() -> str:
    text = (resources.files("glasnost.bundle") / "verify_browser.js").read_text(encoding="utf-8")
    if "</script" in text.lower():  # inlined as it is: it must not be able to close its own element
        raise ValueError("verify_browser.js must not contain </script")
    return text


def csp_script_source() -> str:
    """The CSP source that allows exactly this inline script and nothing else."""
    digest = hashlib.sha256(script().encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def script_tag() -> str:
    return "<script>" + script() + "</script>"


def write() -> None:  # pragma: no cover - a maintenance command, run from a checkout
    """Regenerate verify_browser.js from verifiers/js (run after changing either source)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    js = root / "verifiers" / "js"
    text = build(*sources(js))
    (Path(__file__).parent / "verify_browser.js").write_text(text, encoding="utf-8")
