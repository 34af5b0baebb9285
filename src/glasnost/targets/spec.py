"""Target spec strings and targets files -> ``TargetSpec``.

Spec strings (``--target``), one model each::

    PRESET:MODEL[?OPTIONS]             openai:gpt-4o-mini, ollama:qwen2.5:7b, openrouter:qwen/qwen3-235b-a22b
    openai-compat:URL#MODEL[?OPTIONS]  openai-compat:http://127.0.0.1:8000/v1#my-model?key_env=MY_KEY
    local:HUB_ID_OR_FOLDER[?OPTIONS]   local:Qwen/Qwen2.5-0.5B-Instruct, local:./models/tiny
    replay:FILE[#MODEL][?OPTIONS]      replay:responses.jsonl, replay:corpus.jsonl.gz#qwen/qwen-max

OPTIONS are ``key=value`` pairs joined by ``&``: ``key_env`` (variable holding the API key), ``name`` (display
label), ``revision`` (model revision/digest), ``base_url`` (override a preset's URL). The model part keeps
every colon (``qwen2.5:7b``); only the first colon separates the kind.

A targets file (``.yaml``/``.yml``) holds a list whose items are spec strings or mappings with the
``TargetSpec`` fields (``kind`` may be a preset name: ``{kind: deepseek, model: deepseek-chat}``).

Nothing here reads an API key: only the *name* of its variable is kept; the target reads it at start.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from pydantic import ValidationError

from glasnost import textsafe
from glasnost.errors import ConfigError
from glasnost.redact import redact_url, url_credentials
from glasnost.records import TargetSpec

SPEC_OPTIONS = ("key_env", "name", "revision", "base_url")
BUILTIN_KINDS = ("openai-compat", "local", "replay")


@dataclass(frozen=True)
class Preset:
    name: str
    base_url: str
    api_key_env: str | None
    key_required: bool
    base_url_env: str | None = None
    max_tokens_field: str = "max_tokens"
    start_hint: str | None = None


@lru_cache(maxsize=1)
def presets() -> dict[str, Preset]:
    """The provider presets shipped in presets.yaml (read once)."""
    text = resources.files("glasnost.targets").joinpath("presets.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)["presets"]
    return {name: Preset(name=name, **fields) for name, fields in data.items()}


def preset_for(spec: TargetSpec) -> Preset | None:
    return presets().get(spec.provider)


def known_kinds() -> list[str]:
    return [*BUILTIN_KINDS, *presets()]


def key_required(spec: TargetSpec) -> bool:
    """A key variable named for a custom endpoint or a hosted preset must be set; keyless presets send it if set."""
    if not spec.api_key_env:
        return False
    preset = preset_for(spec)
    return preset.key_required if preset else True


def _resolve_preset_url(preset: Preset) -> str:
    """The preset's base URL, or the one its override variable names (``OLLAMA_HOST=host:port``)."""
    override = os.environ.get(preset.base_url_env, "").strip() if preset.base_url_env else ""
    if not override:
        return preset.base_url
    if "://" not in override:
        override = "http://" + override
    # Checked like any URL: OLLAMA_HOST=http://user:secret@host must not carry its secret into a manifest.
    override = _check_url(override, f"the variable {preset.base_url_env}")
    host = override.rstrip("/")
    if host.startswith("http://0.0.0.0"):  # a bind-all address is not one to connect to
        host = host.replace("0.0.0.0", "127.0.0.1", 1)
    return host if host.endswith("/v1") else host + "/v1"


def _shown(text: str) -> str:
    """A spec as error messages may quote it: no ``user:password@`` and no value of an unknown option
    (``?api_key=sk-...``), so a key typed by mistake is not echoed into terminals and CI logs."""
    return redact_url(text)


def _check_url(url: str, where: str) -> str:
    if url_credentials(url):  # the URL is recorded in every manifest and bundle: no secret may ride in it
        raise ConfigError(f"{where}: a base URL may not carry credentials, a query, path parameters or a fragment "
                          "(user:key@host, ?key=..., ;key=...); keys live only in the environment: name the "
                          "variable with ?key_env=VARIABLE")
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise ConfigError(f"{where}: base URL {redact_url(url)!r} must start with http:// or https://")
    return url.rstrip("/")


_CREDENTIAL_PAIR = re.compile(r"[&;][^=&;]*=")


def _check_model(model: str, where: str) -> str:
    """A model name never carries ``&api_key=...`` (options follow ``?``, and keys live in the environment)."""
    if _CREDENTIAL_PAIR.search(model):
        raise ConfigError(f"{where}: the model name holds a '&name=value' or ';name=value' pair; options follow '?' "
                          f"({', '.join(SPEC_OPTIONS)}) and keys live only in the environment (?key_env=VARIABLE)")
    return model


def _split_options(rest: str, where: str) -> tuple[str, dict[str, str]]:
    """``model?key=value&...`` -> (model, options); unknown option names are an error."""
    if "?" not in rest:
        return rest, {}
    head, _, query = rest.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    unknown = sorted(set(options) - set(SPEC_OPTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown option {', '.join(unknown)}; known: {', '.join(SPEC_OPTIONS)}")
    return head, options


def _build(fields: dict[str, Any], where: str) -> TargetSpec:
    try:
        return TargetSpec(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "target"
        raise ConfigError(f"{where}: {loc}: {first.get('msg', 'invalid value')}") from None


def _apply_options(fields: dict[str, Any], options: dict[str, str], where: str) -> dict[str, Any]:
    if options.get("key_env"):
        fields["api_key_env"] = options["key_env"]
    if options.get("name"):
        fields["name"] = options["name"]
    if options.get("revision"):
        fields["revision"] = options["revision"]
    if options.get("base_url"):
        fields["base_url"] = _check_url(options["base_url"], where)
    return fields


def parse_target(text: str) -> TargetSpec:
    """One spec string -> TargetSpec, or ConfigError saying what is wrong and how to write it."""
    text = text.strip()
    where = f"target {_shown(text)!r}"
    kind, sep, rest = text.partition(":")
    kind = kind.strip().lower()
    if not sep or not kind:
        raise ConfigError(f"{where}: expected KIND:MODEL (e.g. openai:gpt-4o-mini); known kinds: {', '.join(known_kinds())}")
    if kind not in known_kinds():
        raise ConfigError(f"{where}: unknown kind {kind!r}; known kinds: {', '.join(known_kinds())}")
    if kind == "openai-compat":
        url, hash_, model_part = rest.partition("#")
        model, options = _split_options(model_part, where)
        if not hash_ or not model or not url:
            raise ConfigError(f"{where}: write openai-compat:URL#MODEL, e.g. openai-compat:http://127.0.0.1:8000/v1#my-model")
        fields = {"kind": "openai-compat", "provider": "custom", "model": _check_model(model, where),
                  "base_url": _check_url(url, where)}
        return _build(_apply_options(fields, options, where), where)
    if kind == "local":
        ref, options = _split_options(rest, where)
        if not ref:
            raise ConfigError(f"{where}: write local:HUB_ID or local:FOLDER, e.g. local:Qwen/Qwen2.5-0.5B-Instruct")
        folder = Path(ref).expanduser()
        if folder.is_dir():
            # A folder's path is where it is, not what it is: the model name is the folder's name, and the
            # weights hash (taken at start) tells two folders of that name apart.
            fields = {"kind": "local", "provider": "local", "model": folder.resolve().name, "path": str(folder.resolve())}
        elif ref.startswith((".", "/", "~")) or ref.count("/") > 1:
            raise ConfigError(f"{where}: no model folder at {ref}; give an existing folder or a hub id like Qwen/Qwen2.5-0.5B-Instruct")
        else:
            fields = {"kind": "local", "provider": "local", "model": ref}
        return _build(_apply_options(fields, options, where), where)
    if kind == "replay":
        head, options = _split_options(rest, where)
        file_part, _, model = head.rpartition("#") if "#" in head else (head, "", "")
        if not file_part:
            raise ConfigError(f"{where}: write replay:FILE or replay:FILE#MODEL")
        path = Path(file_part).expanduser()
        if not path.is_file():
            raise ConfigError(f"{where}: no replay file at {file_part}; give a glasnost export (.jsonl) or a corpus file (.jsonl.gz)")
        if not model:  # the model is part of the identity (and so of every key): name the file's only one
            from glasnost.targets.replay import sole_model

            model = sole_model(path)
        fields = {"kind": "replay", "provider": "replay", "model": model, "path": str(path.resolve())}
        return _build(_apply_options(fields, options, where), where)
    preset = presets()[kind]
    model, options = _split_options(rest, where)
    if not model:
        raise ConfigError(f"{where}: no model name; write {kind}:MODEL")
    _check_model(model, where)
    fields = {
        "kind": "openai-compat",
        "provider": kind,
        "model": model,
        "base_url": _resolve_preset_url(preset),
        "api_key_env": preset.api_key_env,
    }
    return _build(_apply_options(fields, options, where), where)


def _from_mapping(item: dict[str, Any], where: str, base: Path) -> TargetSpec:
    if "spec" in item:  # {spec: "ollama:qwen2.5:7b", name: ...}
        spec = parse_target(str(item["spec"]))
        extra = {k: v for k, v in item.items() if k != "spec"}
        if extra.get("base_url") is not None:  # checked like every other endpoint: no credentials ride in it
            extra["base_url"] = _check_url(str(extra["base_url"]), where)
        if extra.get("model") is not None:
            _check_model(str(extra["model"]), where)
        return _build({**spec.model_dump(), **extra}, where) if extra else spec
    fields = {k: v for k, v in item.items() if v is not None}
    kind = str(fields.get("kind", "openai-compat")).lower()
    if kind in presets():
        fields["kind"], fields["provider"] = "openai-compat", kind
    elif kind not in BUILTIN_KINDS:
        raise ConfigError(f"{where}: unknown kind {kind!r}; known kinds: {', '.join(known_kinds())}")
    elif kind in ("local", "replay"):
        return _local_or_replay_from_mapping(kind, fields, where, base)
    else:
        fields["kind"] = kind
    preset = presets().get(str(fields.get("provider", "")))
    if fields["kind"] == "openai-compat" and preset:
        fields.setdefault("base_url", _resolve_preset_url(preset))
        fields.setdefault("api_key_env", preset.api_key_env)
    if fields["kind"] == "openai-compat" and not fields.get("base_url"):
        raise ConfigError(f"{where}: an openai-compat target needs base_url (or a provider preset: {', '.join(presets())})")
    if fields.get("base_url"):
        fields["base_url"] = _check_url(str(fields["base_url"]), where)
    if fields.get("model") is not None:
        _check_model(str(fields["model"]), where)
    return _build(fields, where)


def _local_or_replay_from_mapping(kind: str, fields: dict[str, Any], where: str, base: Path) -> TargetSpec:
    """Same rules as the spec strings; a relative ``path`` is relative to the targets file."""
    path = fields.get("path")
    if path is not None:
        path = str(Path(str(path)).expanduser() if Path(str(path)).expanduser().is_absolute() else base / str(path))
    if kind == "local":
        ref = path or fields.get("model")
        if not ref:
            raise ConfigError(f"{where}: a local target needs model (a hub id) or path (a folder)")
        text = f"local:{ref}"
    else:
        if not path:
            raise ConfigError(f"{where}: a replay target needs path (the recorded file)")
        text = f"replay:{path}" + (f"#{fields['model']}" if fields.get("model") else "")
    try:
        spec = parse_target(text)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    overrides = {k: str(fields[k]) for k in ("name", "revision") if fields.get(k)}
    return _build({**spec.model_dump(), **overrides}, where) if overrides else spec


def load_targets_file(path: Path) -> list[TargetSpec]:
    try:
        data = textsafe.yaml_load(path.read_text(encoding="utf-8"), f"targets file {path}")
    except (UnicodeDecodeError, RecursionError):
        raise ConfigError(f"targets file {path}: not UTF-8 YAML or nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"cannot read targets file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"targets file {path}{line}: not valid YAML") from None
    if isinstance(data, dict) and "targets" in data:
        data = data["targets"]
    if not isinstance(data, list) or not data:
        raise ConfigError(f"targets file {path}: expected a non-empty list of targets (spec strings or mappings)")
    specs = []
    for i, item in enumerate(data, start=1):
        where = f"targets file {path} item {i}"
        if isinstance(item, str):
            try:
                specs.append(parse_target(item))
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        elif isinstance(item, dict):
            specs.append(_from_mapping(item, where, path.parent))
        else:
            raise ConfigError(f"{where}: expected a spec string or a mapping, got {type(item).__name__}")
    return specs


def parse_targets(values: list[str]) -> list[TargetSpec]:
    """Spec strings and/or targets files -> specs; exact repeats are dropped, clashing ids are an error."""
    specs: list[TargetSpec] = []
    for value in values:
        value = value.strip()
        if value.lower().endswith((".yaml", ".yml")) and value.partition(":")[0].lower() not in known_kinds():
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConfigError(f"no targets file at {value}; give a YAML list of targets or a spec like openai:gpt-4o-mini")
            specs.extend(load_targets_file(path))
        else:
            specs.append(parse_target(value))
    unique: dict[str, TargetSpec] = {}
    for spec in specs:
        seen = unique.get(spec.id)
        if seen is None:
            unique[spec.id] = spec
        elif seen.identity() != spec.identity() or seen.path != spec.path:
            raise ConfigError(f"two different targets share the id {spec.id!r}; tell them apart with ?name=LABEL")
    if not unique:
        raise ConfigError("no target given; pass --target KIND:MODEL (e.g. ollama:qwen2.5:7b)")
    return list(unique.values())
