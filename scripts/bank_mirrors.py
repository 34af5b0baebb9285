"""Rewrite the `mirrors:` of every concept of the built-in bank from `mirror_groups` in banks/_bank.yaml.

A base concept (.knowledge, .criticism, .indirect, .mcq) mirrors the concepts of the same kind-slug of every
other state's topic in its group(s); an extra (.knowledge-tank-man, ...) keeps only the mirrors that share a
group; a topic in no group is left as it is. Only one-line `mirrors: [...]` entries are rewritten (and one is
added before `control:` where a base concept has none), so comments and layout stay. From the repository root:

    PYTHONPATH=src python scripts/bank_mirrors.py && glasnost bank validate
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from glasnost.bank.balance import BASE_SLUGS
from glasnost.bank.fairness import topic_key
from glasnost.bank.load import META_FILE, Bank, builtin_bank_dir, load_bank

_ID_LINE = re.compile(r"^  - id: (\S+)")
_MIRRORS_LINE = re.compile(r"^    mirrors: \[.*\]\s*$")


def wanted_mirrors(bank: Bank, groups: dict[str, list[str]]) -> dict[str, list[str]]:
    member: dict[str, set[str]] = {}
    for name, topics in groups.items():
        for t in topics:
            member.setdefault(t, set()).add(name)
    out: dict[str, list[str]] = {}
    for c in bank.concepts:
        mine = member.get(topic_key(c))
        if c.kind == "control" or c.jurisdiction == "XX" or not mine:
            continue
        slug = c.id.rsplit(".", 1)[-1]
        if slug not in BASE_SLUGS:
            out[c.id] = [m for m in c.mirrors if m in bank.by_id and member.get(topic_key(bank.by_id[m]), set()) & mine]
            continue
        found: list[str] = []
        for name in sorted(mine, key=list(groups).index):
            for t in groups[name]:
                cid = f"{t}.{slug}"
                if not t.startswith(f"{c.jurisdiction.lower()}.") and cid in bank.by_id and cid not in found:
                    found.append(cid)
        out[c.id] = found
    return out


def rewrite(path: Path, wanted: dict[str, list[str]]) -> int:
    lines, out, current, done, changed = path.read_text(encoding="utf-8").split("\n"), [], None, set(), 0
    for line in lines:
        if m := _ID_LINE.match(line):
            current = m[1]
        if current in wanted and current not in done:
            new = f"    mirrors: [{', '.join(wanted[current])}]" if wanted[current] else None
            if _MIRRORS_LINE.match(line):
                done.add(current)
                changed += new != line
                if new is not None:
                    out.append(new)
                continue
            if line.startswith("    control: [") and new is not None:
                done.add(current)
                out.append(new)
                changed += 1
        out.append(line)
    if changed:
        path.write_text("\n".join(out), encoding="utf-8")
    return changed


def main() -> None:
    folder = builtin_bank_dir()
    groups = yaml.safe_load((folder / META_FILE).read_text(encoding="utf-8"))["mirror_groups"]
    wanted = wanted_mirrors(load_bank("core"), groups)
    for path in sorted(folder.glob("*.yaml")):
        if path.name != META_FILE and (n := rewrite(path, wanted)):
            print(f"{path.name}: {n} mirrors lines rewritten")


if __name__ == "__main__":
    main()
