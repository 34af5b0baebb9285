"""The one text boundary: everything that enters from a target, a file or a bundle passes here.

Model output and input files are hostile. Three things are made impossible past this point:

- text that cannot be encoded as UTF-8 (a lone surrogate such as ``"\\ud800"``, which JSON may carry as an
  escape) or that holds NUL: each such character becomes U+FFFD and the record says ``repaired: true``;
- an answer of unbounded size: text beyond the cap (``GLASNOST_MAX_ANSWER_CHARS``, default 1,000,000
  characters, far above any real completion) is cut and the record says how many characters were cut
  (``clipped``); as no real completion is that long, its outcome becomes ``error`` (never judged);
- a line of an input file of unbounded size: lines are read with a cap (``GLASNOST_MAX_LINE_BYTES``, default
  32 MiB) and a longer one is one clear error, never a ``MemoryError``.

Repairs are marked, never silent: a reader of the store can tell a repaired answer from the one sent.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping, TypeVar

from glasnost.errors import ConfigError

DEFAULT_MAX_ANSWER_CHARS = 1_000_000
DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024
REPLACEMENT = "\ufffd"

_BAD = re.compile("[\x00\ud800-\udfff]")
_NUMBER_DIGITS = 4300  # Python's own int-string limit: a longer number in JSON is refused, not parsed

T = TypeVar("T")


# Bidi embeddings/overrides/isolates, marks, zero-width characters, the BOM, and other invisible format
# characters: shown as visible ``⟨U+202E⟩`` markers wherever text is printed (report.fmt, the CLI); the same
# set is made visible by the report's JavaScript. Here, not in report/, so printing one CLI line never
# imports the report and the statistics behind it.
CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00ad\u061c\u180e\u200b-\u200f"
                      "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def show_controls(text: str) -> str:
    return CONTROLS.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def _env_int(name: str, default: int, environ: Mapping[str, str] | None = None) -> int:
    raw = (environ if environ is not None else os.environ).get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw[:20]!r} is not a whole number; unset it or give e.g. {default}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1 (got {value})")
    return value


def max_answer_chars(environ: Mapping[str, str] | None = None) -> int:
    return _env_int("GLASNOST_MAX_ANSWER_CHARS", DEFAULT_MAX_ANSWER_CHARS, environ)


def max_line_bytes(environ: Mapping[str, str] | None = None) -> int:
    return _env_int("GLASNOST_MAX_LINE_BYTES", DEFAULT_MAX_LINE_BYTES, environ)


def repair(text: str) -> tuple[str, bool]:
    """``text`` with lone surrogates and NULs replaced by U+FFFD; True when anything was replaced."""
    if text.isascii():
        if "\x00" not in text:
            return text, False
        return text.replace("\x00", REPLACEMENT), True
    fixed, n = _BAD.subn(REPLACEMENT, text)
    return fixed, n > 0


def clean(value: Any) -> tuple[Any, bool]:
    """A JSON-like value (str, list, dict, scalars) with every string repaired; True when anything was."""
    if isinstance(value, str):
        return repair(value)
    if isinstance(value, list):
        changed = False
        out_list = []
        for v in value:
            c, ch = clean(v)
            out_list.append(c)
            changed |= ch
        return out_list, changed
    if isinstance(value, dict):
        changed = False
        out_dict = {}
        for k, v in value.items():
            ck, chk = clean(k) if isinstance(k, str) else (k, False)
            cv, chv = clean(v)
            out_dict[ck] = cv
            changed |= chk or chv
        return out_dict, changed
    return value, False


def cap(text: str | None, limit: int) -> tuple[str | None, int]:
    """``text`` cut to ``limit`` characters, and how many were cut."""
    if text is None or len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


_CAPPED_FIELDS = ("text", "reasoning")


_PLAIN = (int, float, bool, type(None))


def any_string(value: Any, test: Callable[[str], bool]) -> bool:
    """Does any string inside a record (fields, nested models and their extra fields, lists, dict keys and
    values) pass ``test``? Decided by looking, without copying: the common clean record costs one pass."""
    if isinstance(value, str):
        return test(value)
    if isinstance(value, _PLAIN):
        return False
    if isinstance(value, (list, tuple)):
        return any(any_string(v, test) for v in value)
    if isinstance(value, dict):
        return any((isinstance(k, str) and test(k)) or any_string(v, test) for k, v in value.items())
    fields = getattr(value, "__dict__", None)
    if fields is None:
        return False
    for v in fields.values():
        if type(v) is str:
            if test(v):
                return True
        elif not isinstance(v, _PLAIN) and any_string(v, test):
            return True
    extra = getattr(value, "__pydantic_extra__", None)
    return bool(extra) and any_string(extra, test)


def _needs_repair(text: str) -> bool:
    return "\x00" in text if text.isascii() else _BAD.search(text) is not None


def needs_repair(value: Any) -> bool:
    """Does any string in ``value`` hold a NUL or a lone surrogate (what ``safe_record`` repairs)?"""
    return any_string(value, _needs_repair)


def safe_record(record: T, limit: int | None = None) -> T:
    """A Completion or Response that can always be stored: strings repaired, answer text capped.

    Sets ``repaired`` and ``clipped`` on the record when it changed; returns the record itself when nothing
    needed doing (the common case costs one scan of the strings, no copy)."""
    from pydantic import BaseModel

    assert isinstance(record, BaseModel)
    limit = max_answer_chars() if limit is None else limit
    sizes_ok = all(len(getattr(record, name, None) or "") <= limit for name in (*_CAPPED_FIELDS, "raw"))
    if sizes_ok and not any_string(record, _needs_repair):
        return record
    data = record.model_dump()
    data, repaired = clean(data)
    clipped = 0
    for name in _CAPPED_FIELDS:
        data[name], cut = cap(data.get(name), limit)
        clipped += cut
    raw = data.get("raw")
    if isinstance(raw, str) and len(raw) > limit:
        data["raw"] = raw[:limit]
    if repaired:
        data["repaired"] = True
    if clipped:
        data["clipped"] = (data.get("clipped") or 0) + clipped
        if str(getattr(data.get("outcome"), "value", data.get("outcome"))) in ("ok", "truncated", "empty"):
            # Longer than any real completion (a runaway generation, a broken proxy): kept, cut and marked, but
            # an error outcome, so that no judge ever counts it as an answer or as censorship.
            data["outcome"] = "error"
            data["error"] = (f"answer longer than the cap of {limit:,} characters (GLASNOST_MAX_ANSWER_CHARS); "
                             f"stored cut, {clipped:,} characters dropped")
    return type(record).model_validate(data)  # type: ignore[return-value]


def read_lines(fh: IO[str], where: str, limit: int | None = None) -> Iterator[str]:
    """Lines of a text stream, none longer than ``limit`` bytes (roughly: characters count as 1-4): a longer
    one is one ConfigError naming the file and line, read in bounded memory."""
    limit = max_line_bytes() if limit is None else limit
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith("\n"):
            raise ConfigError(f"{where}:{lineno}: line longer than {limit:,} characters; refused "
                              "(a real line is far shorter; raise GLASNOST_MAX_LINE_BYTES if it is genuine)")
        yield line


def loads(text: str | bytes, where: str) -> Any:
    """``json.loads`` for hostile input: nesting too deep, a 5,000-digit number and invalid JSON all become one
    ConfigError line (never RecursionError or ValueError from int parsing)."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ConfigError(f"{where}: JSON nested too deeply; refused") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise ConfigError(f"{where}: a number in the JSON is too long ({str(exc)[:60]}); refused") from None


def safe_response(record: T) -> T:
    """The boundary for a record about to be stored (a Response, a Completion): ``safe_record`` plus every
    string scrubbed of known secrets (redact.scrub)."""
    from glasnost.redact import known_secrets, mentions, scrub_value

    record = safe_record(record)
    secrets = known_secrets()
    if not secrets or not any_string(record, lambda t: mentions(t, secrets)):
        return record
    data, changed = scrub_value(record.model_dump(), secrets)  # type: ignore[attr-defined]
    return type(record).model_validate(data) if changed else record  # type: ignore[return-value]


def open_text(path: Path, where: str | None = None) -> IO[str]:
    """A text file, gzip or plain (told by its first bytes, not its name), as UTF-8; one ConfigError line when
    it cannot be opened."""
    import gzip

    where = where or str(path)
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        if gz:
            return gzip.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
        return open(path, encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: is a folder; give a file") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot open ({exc.strerror})") from None


def iter_lines(path: Path, where: str | None = None, limit: int | None = None) -> Iterator[tuple[int, str]]:
    """(line number, line) of a plain or gzip text file, streamed with each line capped (``read_lines``);
    a damaged gzip stream, bytes that are not UTF-8 or a read error end it with one ConfigError line."""
    import gzip
    import zlib

    where = where or str(path)
    lineno = 0
    with open_text(path, where) as fh:
        lines = read_lines(fh, where, limit)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (UnicodeDecodeError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
                what = {"EOFError": "the gzip stream ends early (truncated file)",
                        "UnicodeDecodeError": "not UTF-8 text"}.get(type(exc).__name__, f"damaged ({type(exc).__name__})")
                raise ConfigError(f"{where}:{lineno + 1}: cannot read: {what}; fix or re-create the file") from None
            lineno += 1
            yield lineno, line


# ---------------------------------------------------------------------------------------------------------
# YAML: aliases make a small file stand for a huge tree (the "billion laughs"); every later walk of it
# (validation, hashing, JSON) would take that long. The composed node graph is measured as it would expand.

MAX_YAML_NODES = 2_000_000
MAX_YAML_BYTES = 64 * 1024 * 1024


def check_yaml_expansion(root: Any, where: str, limit: int = MAX_YAML_NODES) -> None:
    """ConfigError when the YAML node graph ``root`` expands (aliases followed) to more than ``limit`` nodes."""
    import yaml

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if node is None or id(node) in sizes:
            continue
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 0) for c in children)
        if total > limit:
            raise ConfigError(f"{where}: YAML expands to more than {limit:,} values (aliases repeating aliases, "
                              "a 'billion laughs'); refused")
        sizes[id(node)] = total


def yaml_load(text: str, where: str, loader: Any = None) -> Any:
    """Safe YAML for hostile files: the safe loader, a size limit, and an expansion limit on aliases."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{where}: YAML file larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB; refused")
    if loader is None:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    ld = loader(text)
    try:
        root = ld.get_single_node()
        if root is None:
            return None
        check_yaml_expansion(root, where)
        try:
            return ld.construct_document(root)
        except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
            raise ConfigError(f"{where}: a value cannot be read ({str(exc)[:70]}); a number that long is not "
                              "real data") from None
    finally:
        ld.dispose()
