"""The torch side of the local target: load a causal LM, generate a batch, score continuations.

Everything here runs in the local target's one worker thread (see local.py); torch and transformers are
imported inside the functions, so importing this module costs nothing until a local model is used.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from glasnost.errors import TargetFatal
from glasnost.records import GenerationConfig, TargetSpec, canonical_json, sha256_text

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_SNAPSHOT = re.compile(r"snapshots[\\/]([0-9a-f]{40})(?:[\\/]|$)")
_TRUE = {"1", "true", "yes", "on"}


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    device: str
    eos_ids: list[int]
    pad_id: int
    revision: str | None
    chat_template_sha: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def downloads_allowed(environ: Mapping[str, str]) -> bool:
    return not any(environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def weights_sha256(folder: Path) -> str | None:
    """A content hash of a folder's weight files (names and bytes), for folders outside the hub cache."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not files:
        return None
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def hub_reachable(environ: Mapping[str, str], timeout: float = 3.0) -> bool:
    """A quick TCP check of the hub, so an offline machine fails in seconds, not after minutes of retries."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _hub_commit(ref: str, revision: str | None) -> str | None:
    try:
        from transformers.utils.hub import cached_file, extract_commit_hash

        path = cached_file(ref, "config.json", revision=revision, local_files_only=True)
        return extract_commit_hash(path, None)
    except Exception:  # the revision is a nice-to-have record, never a reason to fail
        return None


def _template_sha(tokenizer: Any) -> str | None:
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return None
    return sha256_text(template if isinstance(template, str) else canonical_json(template))


def _unavailable(ref: str, reason: str) -> TargetFatal:
    return TargetFatal(
        f"local model {ref} could not be loaded ({reason}); point the target at a model folder "
        f"(--target local:/path/to/model), at a server (--target ollama:MODEL), or download it with network "
        f"access (`hf download {ref}`)"
    )


def load(spec: TargetSpec, environ: Mapping[str, str], device: str | None = None) -> Loaded:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ref = spec.path or spec.model
    folder = Path(ref) if Path(ref).is_dir() else None
    kwargs: dict[str, Any] = {} if folder else {"revision": spec.revision}
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = "auto" if device.startswith("cuda") else torch.float32  # bf16 matmuls on CPU are slow
    attempts = [True] if folder or not downloads_allowed(environ) else [True, False]
    last: Exception | None = None
    for local_only in attempts:
        if not local_only and not hub_reachable(environ):
            raise _unavailable(ref, "not in the local cache, and the model hub cannot be reached from here")
        try:
            tokenizer = AutoTokenizer.from_pretrained(ref, local_files_only=local_only, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(ref, local_files_only=local_only, dtype=dtype, **kwargs)
            break
        except Exception as exc:  # OSError, hub errors, bad configs: all end the same way for the user
            last = exc
    else:
        text = str(last).strip()
        first = text.splitlines()[0][:200] if text else type(last).__name__
        if folder:
            reason = first
        elif len(attempts) == 1:
            reason = "not in the local cache, and downloads are off (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)"
        else:
            reason = f"not in the local cache, and downloading failed: {first}"
        raise _unavailable(ref, reason)
    model.to(device).eval()
    tokenizer.padding_side = "left"  # generation continues from the right edge of every row
    eos = model.generation_config.eos_token_id
    eos_ids = [e for e in (eos if isinstance(eos, list) else [eos]) if e is not None]
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos_ids:
        eos_ids.append(tokenizer.eos_token_id)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (eos_ids[0] if eos_ids else 0)
    if folder is not None:
        snapshot = _SNAPSHOT.search(str(folder.resolve()))
        revision = snapshot.group(1) if snapshot else weights_sha256(folder)
    else:
        revision = _hub_commit(ref, spec.revision) or spec.revision
    import transformers

    return Loaded(
        model=model, tokenizer=tokenizer, device=device, eos_ids=eos_ids, pad_id=pad_id, revision=revision,
        chat_template_sha=_template_sha(tokenizer),
        extra={"device": device, "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
               "transformers": transformers.__version__, "torch": torch.__version__,
               "chat_template": "model" if tokenizer.chat_template else "none (plain prompt)"},
    )


def render(loaded: Loaded, messages: list[dict[str, str]]) -> str:
    """The prompt text the model sees: its own chat template, or the plain text when it has none."""
    tok = loaded.tokenizer
    if tok.chat_template:
        return tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


def sample_seed(seed: int | None, sample_index: int) -> int:
    """A 63-bit seed from (seed, sample_index): the same pair gives the same sample, whatever the batch."""
    if seed is None:
        return int.from_bytes(os.urandom(8), "big") >> 1
    digest = hashlib.sha256(f"{seed}:{sample_index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class _SeededSampler:
    """Draw each row's next token with that row's own generator, then leave only it for greedy search.

    ``generate`` samples from the global RNG, which would tie a sample to whatever else shared its batch.
    Running greedy search over logits where every token but the drawn one is -inf gives per-row seeds.
    """

    def __init__(self, generators: list[Any]) -> None:
        self.generators = generators

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        probs = torch.softmax(scores.float(), dim=-1)
        out = torch.full_like(scores, float("-inf"))
        for row, gen in enumerate(self.generators):
            token = torch.multinomial(probs[row], 1, generator=gen)
            out[row, token] = 0.0
        return out


@dataclass
class Generated:
    text: str
    finish_reason: str  # "stop" or "length"
    prompt_tokens: int
    completion_tokens: int


def generate_batch(
    loaded: Loaded, prompts: list[str], generation: GenerationConfig, seeds: list[int]
) -> list[Generated]:
    """Generate for prompts that share one generation config (left-padded into one batch)."""
    import torch
    from transformers import GenerationConfig as HFGenerationConfig
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

    tok, model = loaded.tokenizer, loaded.model
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(loaded.device)
    config = HFGenerationConfig(
        max_new_tokens=generation.max_tokens, do_sample=False, eos_token_id=loaded.eos_ids or None,
        pad_token_id=loaded.pad_id, stop_strings=generation.stop or None,
    )
    processors = LogitsProcessorList()
    if generation.temperature > 0:
        processors.append(TemperatureLogitsWarper(generation.temperature))
        if generation.top_p is not None and generation.top_p < 1.0:
            processors.append(TopPLogitsWarper(generation.top_p))
        gens = [torch.Generator(device=loaded.device).manual_seed(s) for s in seeds]
        processors.append(_SeededSampler(gens))
    with torch.inference_mode():
        out = model.generate(
            **enc, generation_config=config, logits_processor=processors,
            tokenizer=tok if generation.stop else None,
        )
    width = enc["input_ids"].shape[1]
    results = []
    for row in range(len(prompts)):
        tokens = out[row, width:].tolist()
        finish = "length"
        cut = next((i for i, t in enumerate(tokens) if t in loaded.eos_ids), None)
        if cut is not None:
            tokens, finish = tokens[:cut], "stop"
        while tokens and tokens[-1] == loaded.pad_id:  # rows that stopped early (stop strings) are padded
            tokens.pop()
            finish = "stop"
        text = tok.decode(tokens, skip_special_tokens=False)
        for stop in generation.stop or []:  # OpenAI semantics: the stop sequence is not part of the answer
            at = text.find(stop)
            if at >= 0:
                text, finish = text[:at], "stop"
        if finish == "length" and len(tokens) < generation.max_tokens:
            finish = "stop"
        results.append(Generated(text, finish, int(enc["attention_mask"][row].sum()), len(tokens)))
    return results


def score(loaded: Loaded, prefix: str, continuations: list[str], add_special_tokens: bool) -> list[tuple[float, int]]:
    """(summed log-likelihood, token count) of each continuation after ``prefix``."""
    import torch

    tok, model = loaded.tokenizer, loaded.model
    prefix_ids = tok(prefix, add_special_tokens=add_special_tokens)["input_ids"]
    if not prefix_ids:
        raise ValueError("score_continuations needs a non-empty prefix")
    results = []
    for cont in continuations:
        cont_ids = tok(cont, add_special_tokens=False)["input_ids"]
        if not cont_ids:
            raise ValueError("score_continuations needs non-empty continuations")
        ids = torch.tensor([prefix_ids + cont_ids], device=loaded.device)
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0].float()
        logp = torch.log_softmax(logits[:-1], dim=-1)
        token_lp = logp.gather(1, ids[0, 1:, None])[:, 0]
        results.append((float(token_lp[len(prefix_ids) - 1:].sum()), len(cont_ids)))
    return results
