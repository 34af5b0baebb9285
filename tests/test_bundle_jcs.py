"""RFC 8785 in Python (bundle/jcs.py) writes every number and string exactly as ECMAScript does, and the
JavaScript verifier's Python form writes floats exactly as Python's repr: checked on random doubles."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from glasnost.bundle import jcs
from glasnost.records import canonical_json

JS = Path(__file__).resolve().parent.parent / "verifiers" / "js"


def doubles(n: int = 3000) -> list[float]:
    rng = random.Random(18)
    out = [0.0, -0.0, 1.0, 0.1, 1e21, 1e-7, 1e-6, 5e-324, 1.7976931348623157e308, 0.0078125, 1e16, 1e15, 1e-4, 1e-5]
    while len(out) < n:
        x = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if x == x and abs(x) != float("inf"):
            out.append(x)
    out += [rng.random() for _ in range(500)] + [rng.randint(0, 10**6) / 10**rng.randint(0, 9) for _ in range(500)]
    return out


def test_known_forms():
    assert jcs.dumps({"b": [1.0, 0.0, -0.0, 0.5, 1e-7, 123.456, 9007199254740991], "a": "é\u2028\x1f\"\\"}) == (
        '{"a":"é\u2028\\u001f\\"\\\\","b":[1,0,0,0.5,1e-7,123.456,9007199254740991]}'
    )
    assert jcs.dumps({"\uffff": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uffff":1}'  # UTF-16 order
    for bad in (float("nan"), 2**53, 1e21, 1.5e300, "\ud800"):
        with pytest.raises(jcs.CanonicalError):
            jcs.dumps(bad)


def test_numbers_match_ecmascript_and_python_repr():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    values = [x for x in doubles() if not (x.is_integer() and abs(x) > jcs.MAX_SAFE_INTEGER)]
    script = (
        "import { pyFloat, pyForm } from './core.mjs';"
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const xs=JSON.parse(s).map(Number);"
        "console.log(JSON.stringify([xs.map(String), xs.map(pyFloat)]));});"
    )
    out = subprocess.run([node, "--input-type=module", "-e", script], cwd=JS, capture_output=True, text=True,
                         input=json.dumps([repr(x) for x in values]), timeout=60)
    ecma, python = json.loads(out.stdout)
    assert [jcs.number(x) for x in values] == ecma
    assert [canonical_json(x) for x in values] == python
