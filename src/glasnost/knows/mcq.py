"""Multiple-choice probes for chat targets: shuffled lettered options, reproducible from the run seed.

Why shuffle: the bank lists the correct option first, and models favour some letters. Each sample of an
mcq probe shows the options in its own order, derived from (run seed, concept id, language, sample index)
by sha256, so the prompt text — which enters the work-item key — is the same on every machine and every
resume. The correct option moves one letter further with each sample (from a seeded start), so ``n``
samples of an ``n``-option question put it under every letter once: letter bias cancels, and two
consecutive samples never show the same order. The other options are shuffled freely.

The permutation is recorded in the prompt itself ("B) <option text>" lines): ``options_in_prompt`` reads
it back from a stored response against the bank's option texts, so the analysis needs neither the seed
nor a side table, and responses imported from another auditor are read the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterator

from glasnost.records import Concept, Probe, canonical_json
from glasnost.textsafe import yaml_load

# Top logprobs asked for with each mcq chat request (where the endpoint has them): the option letters are
# nearly always among the ten likeliest first tokens, and OpenAI caps the number at 20.
MCQ_TOP_LOGPROBS = 10


@dataclass(frozen=True)
class McqFormat:
    letters: str
    template: str
    option: str
    instructions: dict[str, str]
    markers: dict[str, list[str]]  # answer markers per language ("the answer is", 答案是)
    option_words: dict[str, list[str]]  # weaker cues ("option", 选项)

    def instruction(self, lang: str) -> str:
        return self.instructions.get(lang) or self.instructions["en"]


@lru_cache(maxsize=1)
def mcq_format() -> McqFormat:
    text = (resources.files("glasnost.knows") / "data" / "mcq.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml_load(text, "mcq.yaml")  # libyaml's safe loader where there is one: ~8 ms sooner
    return McqFormat(
        letters=str(raw["letters"]),
        template=str(raw["template"]),
        option=str(raw["option"]),
        instructions={str(k): str(v) for k, v in raw["instructions"].items()},
        markers={str(k): [str(m) for m in v] for k, v in raw["answer_markers"].items()},
        option_words={str(k): [str(m) for m in v] for k, v in raw["option_words"].items()},
    )


def _stream(*parts: object) -> Iterator[int]:
    """An endless stream of 64-bit integers from sha256(parts, counter): the same everywhere, forever."""
    base = canonical_json([str(p) for p in parts])
    counter = 0
    while True:
        digest = hashlib.sha256(f"{base}#{counter}".encode("utf-8")).digest()
        for i in range(0, 32, 8):
            yield int.from_bytes(digest[i:i + 8], "big")
        counter += 1


def permutation(n: int, correct: int, seed: int | None, concept_id: str, lang: str, sample_index: int) -> list[int]:
    """``order[j]`` = bank index of the option shown under letter j (see the module docstring)."""
    if not 0 <= correct < n:
        raise ValueError(f"correct option {correct} out of range for {n} options")
    seed = 0 if seed is None else seed  # no seed still needs a fixed prompt: the key depends on it
    start = next(_stream("mcq-start", seed, concept_id, lang)) % n
    others = [i for i in range(n) if i != correct]
    draws = _stream("mcq-order", seed, concept_id, lang, sample_index)
    for i in range(len(others) - 1, 0, -1):  # Fisher-Yates; 64-bit draws make the modulo bias negligible
        j = next(draws) % (i + 1)
        others[i], others[j] = others[j], others[i]
    at = (start + sample_index) % n
    return others[:at] + [correct] + others[at:]


def _one_line(text: str) -> str:
    # An option is one prompt line: a newline inside it would break reading the order back.
    return " ".join(text.split())


def option_texts(concept: Concept, lang: str) -> list[str] | None:
    """The options of an mcq concept in ``lang`` (bank order), or None when it has none in that language."""
    if concept.mcq is None or not concept.mcq.options:
        return None
    texts = [o.text.get(lang) for o in concept.mcq.options]
    if any(t is None or not t.strip() for t in texts):
        return None
    return [_one_line(t) for t in texts]  # type: ignore[arg-type]


def render(question: str, options: list[str], order: list[int], lang: str) -> str:
    fmt = mcq_format()
    if len(options) > len(fmt.letters):
        raise ValueError(f"at most {len(fmt.letters)} options are supported, got {len(options)}")
    lines = [fmt.option.format(letter=fmt.letters[j], text=options[i]) for j, i in enumerate(order)]
    return fmt.template.format(question=question, options="\n".join(lines), instruction=fmt.instruction(lang))


def mcq_prompt(concept: Concept, lang: str, seed: int | None, sample_index: int) -> str | None:
    """The text sent for sample ``sample_index`` of an mcq concept in ``lang`` (None: not an mcq there)."""
    options = option_texts(concept, lang)
    if options is None or concept.mcq is None:
        return None
    order = permutation(len(options), concept.mcq.correct_index(), seed, concept.id, lang, sample_index)
    return render(concept.variants[lang], options, order, lang)


def probe_renderer(concepts: dict[str, Concept], seed: int | None) -> Callable[[Probe, int], Probe]:
    """For the planner: mcq probes become question + shuffled lettered options + instruction per sample;
    every other probe is returned unchanged (so its key does not change)."""

    def render_probe(probe: Probe, sample_index: int) -> Probe:
        concept = concepts.get(probe.concept_id)
        if probe.kind != "mcq" or concept is None:
            return probe
        text = mcq_prompt(concept, probe.lang, seed, sample_index)
        return probe if text is None else probe.model_copy(update={"text": text})

    return render_probe


def options_in_prompt(prompt: str, options: list[str]) -> list[int] | None:
    """Read the shown order back from a prompt: ``order[j]`` = bank index under letter j, or None when the
    prompt does not list exactly these options (a plain question, an edited bank)."""
    fmt = mcq_format()
    head, _, tail = fmt.option.partition("{letter}")
    sep = tail.partition("{text}")[0]
    pattern = re.compile(rf"^{re.escape(head)}([{re.escape(fmt.letters)}]){re.escape(sep)}(.*)$")
    shown: dict[str, str] = {}
    for line in prompt.splitlines():
        m = pattern.match(line)
        if m and m.group(1) not in shown:
            shown[m.group(1)] = m.group(2)
    letters = fmt.letters[:len(options)]
    if set(shown) != set(letters):
        return None
    index = {text: i for i, text in enumerate(options)}
    order = [index.get(shown[letter], -1) for letter in letters]
    if -1 in order or len(set(order)) != len(options):
        return None
    return order
