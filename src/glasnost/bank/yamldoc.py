"""A YAML document parsed once into data *and* its node tree, so that every problem can name its line.

``yaml.load`` loses positions and silently keeps the last of two equal keys (a second ``zh-Hans:`` in a
concept would replace the first without a word); the node tree keeps both, so the validator can say where.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

from glasnost import textsafe
from glasnost.errors import ConfigError

try:  # the C loader is ~10x faster on the full bank
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


class YamlProblem(Exception):
    """The file cannot be read or parsed; ``line`` is 1-based (1 when unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class YamlDoc:
    path: Path
    data: Any
    root: yaml.Node | None

    @classmethod
    def read(cls, path: Path) -> "YamlDoc":
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise YamlProblem(1, f"cannot read file ({exc.strerror}); check the path") from None
        except UnicodeDecodeError as exc:
            line = text_line_of_byte(path, exc.start)
            raise YamlProblem(line, "file is not UTF-8 text; save it as UTF-8") from None
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is not None:
                try:
                    textsafe.check_yaml_expansion(root, str(path))  # a 'billion laughs' is refused, fast
                except ConfigError as exc:
                    raise YamlProblem(root.start_mark.line + 1, str(exc).split(": ", 1)[-1]) from None
            data = loader.construct_document(root) if root is not None else None
        except RecursionError:
            raise YamlProblem(1, "YAML nested too deeply; refused") from None
        except ValueError as exc:  # a 5,000-digit number: Python refuses to convert it
            raise YamlProblem(1, f"a value cannot be read ({str(exc)[:70]})") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise YamlProblem(mark.line + 1 if mark else 1, f"YAML syntax error: {problem}") from None
        finally:
            loader.dispose()
        return cls(path=path, data=data, root=root)

    def child(self, key: str) -> yaml.Node | None:
        return child(self.root, key)


def text_line_of_byte(path: Path, offset: int) -> int:
    try:
        return path.read_bytes()[:offset].count(b"\n") + 1
    except OSError:  # pragma: no cover
        return 1


def line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


def child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a mapping node (the last one, as yaml.load keeps)."""
    found = None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found = v
    return found


def locate(node: yaml.Node | None, path: Sequence[Any]) -> int:
    """1-based line of the deepest element of ``path`` (mapping keys and list indexes) that exists.

    A mapping step lands on the line of the key (where an author looks to fix a value); a missing step stops
    the walk, so a missing field is reported at the line of its parent.
    """
    if node is None:
        return 1
    at = line(node)
    for step in path:
        if isinstance(node, yaml.MappingNode):
            hit = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                    hit = (k, v)
            if hit is None:
                break
            at, node = line(hit[0]), hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            at = line(node)
        else:
            break
    return at


def duplicate_keys(node: yaml.Node | None) -> Iterator[tuple[int, str, int]]:
    """(line, key, line of the first occurrence) for every repeated key of every mapping under ``node``."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        yield line(k), k.value, seen[k.value]
                    else:
                        seen[k.value] = line(k)
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
