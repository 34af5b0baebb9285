"""RFC 8785 JSON Canonicalization Scheme (JCS): the canonical form of every hashed or signed JSON in a
version-2 bundle, chosen because any language can implement it (ECMAScript number and string rules).

- numbers: integers within ±(2**53 − 1) as integers; floats as ECMAScript ``Number.prototype.toString``
  writes them (shortest round-trip digits, ``1.0`` → ``1``, ``-0.0`` → ``0``, ``1e-7``, ``0.5``);
  NaN, infinities and any integral value beyond ±(2**53 − 1), float or int, are refused (I-JSON);
- strings: only ``"`` ``\\`` and U+0000–U+001F escaped (``\\b \\t \\n \\f \\r`` short forms, otherwise
  ``\\u00xx`` lowercase); everything else as itself; a lone surrogate is refused;
- objects: members sorted by their names' UTF-16 code units; no whitespace anywhere.

The text is then encoded as UTF-8.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class CanonicalError(ValueError):
    """A value that has no canonical JSON form (NaN, a huge integer, a lone surrogate, a non-JSON type)."""


def number(value: float | int) -> str:
    """A number as ECMAScript's Number::toString writes it (RFC 8785 §3.2.2.3)."""
    if isinstance(value, bool):
        raise CanonicalError("a boolean is not a number")
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalError(f"integer {value} is outside ±(2**53 − 1), which JSON readers cannot hold exactly")
        return str(value)
    if math.isnan(value) or math.isinf(value):
        raise CanonicalError("NaN and infinities have no JSON form")
    if value.is_integer() and abs(value) > MAX_SAFE_INTEGER:  # 1.5e+300 too: a reader cannot tell it from an int
        raise CanonicalError(f"number {value!r} is an integer outside ±(2**53 − 1)")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, the same digits ECMAScript chooses.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    n = exponent + len("".join(map(str, digit_tuple)))  # position of the decimal point
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in _SHORT:
            out.append(_SHORT[ch])
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            raise CanonicalError("a lone surrogate has no UTF-8 form")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _utf16_order(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def dumps(obj: Any) -> str:
    """The RFC 8785 canonical text of a JSON value (dict, list, str, int, float, bool, None)."""
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, str):
        return string(obj)
    if isinstance(obj, (int, float)):
        return number(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, dict):
        for name in obj:
            if not isinstance(name, str):
                raise CanonicalError(f"object member name {name!r} is not a string")
        names = sorted(obj, key=_utf16_order)
        return "{" + ",".join(string(n) + ":" + dumps(obj[n]) for n in names) + "}"
    raise CanonicalError(f"{type(obj).__name__} is not a JSON value")


def encode(obj: Any) -> bytes:
    """Canonical text as UTF-8 bytes: what is hashed and signed."""
    return dumps(obj).encode("utf-8")
