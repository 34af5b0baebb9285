"""Comparability of runs: two runs can be compared response by response only when they asked the same
questions (bank fingerprint) the same way (generation settings, system prompt). Transport settings never
matter, as in work-item keys."""

from __future__ import annotations

from typing import Any

from glasnost.records import RunManifest, sha256_json, sha256_text


def comparability(manifest: RunManifest) -> dict[str, Any]:
    """What must match for two runs' responses to be paired."""
    prompt_sha = manifest.system_prompt_sha
    if prompt_sha is None and manifest.system_prompt is not None:
        prompt_sha = sha256_text(manifest.system_prompt)
    return {
        "bank": manifest.bank.fingerprint,
        "generation": manifest.generation.key_dict(),
        "system_prompt_sha": prompt_sha,
    }


def comparability_fingerprint(manifest: RunManifest) -> str:
    return sha256_json(comparability(manifest))


def differences(a: RunManifest, b: RunManifest) -> list[str]:
    """Human-readable lines naming what differs between two runs' comparability fingerprints."""
    ca, cb = comparability(a), comparability(b)
    out: list[str] = []
    if ca["bank"] != cb["bank"]:
        out.append(
            f"bank: {a.bank.name} {a.bank.version} ({ca['bank'][:12]}) vs {b.bank.name} {b.bank.version} "
            f"({cb['bank'][:12]})"
        )
    ga, gb = ca["generation"], cb["generation"]
    for field in sorted(set(ga) | set(gb)):
        if ga.get(field) != gb.get(field):
            out.append(f"generation.{field}: {ga.get(field)!r} vs {gb.get(field)!r}")
    if ca["system_prompt_sha"] != cb["system_prompt_sha"]:
        def show(sha: str | None) -> str:
            return "none" if sha is None else sha[:12]

        out.append(f"system prompt: {show(ca['system_prompt_sha'])} vs {show(cb['system_prompt_sha'])}")
    return out
