"""The Target protocol: one async ``generate`` per request.

Every backend (an OpenAI-compatible endpoint, an in-process transformers model, a replay file, a scripted
fake in tests) implements it. The judge reaches a model only through this protocol too.

Contract:
- ``generate`` returns a ``Completion`` for every request that reached a result, including provider blocks
  (outcome ``blocked``) and technical failures after retries (outcome ``error``). It never returns a
  half-filled record for a failure: ``error`` carries one line saying what went wrong.
- It raises ``TargetFatal`` only when the whole run must stop (authentication failed, quota exhausted,
  endpoint unreachable at start): the runner then stops and says that one line.
- Retries, back-off and ``Retry-After`` are the target's business (see ``retry.py``); the runner only
  limits concurrency.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from glasnost.records import Completion, GenerationConfig, TargetRuntime, TargetSpec, TransportConfig


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str  # system | user | assistant
    content: str


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[ChatMessage]
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    sample_index: int = 0
    logprobs: int | None = None  # ask for top-k logprobs of generated tokens, where the endpoint has them
    json_schema: dict[str, Any] | None = None  # ask for structured output (LLM judge), where supported

    @property
    def prompt(self) -> str:
        """The last user message: what replay looks up, and what logs show."""
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


@runtime_checkable
class Target(Protocol):
    spec: TargetSpec

    async def start(self) -> TargetRuntime:
        """Prepare (load weights, check the endpoint, read the chat template); report what was learned."""
        ...

    async def generate(self, request: ChatRequest) -> Completion: ...

    async def aclose(self) -> None: ...


def build_messages(prompt: str, system: str | None = None) -> list[ChatMessage]:
    messages = [ChatMessage(role="system", content=system)] if system else []
    messages.append(ChatMessage(role="user", content=prompt))
    return messages


def make_target(spec: TargetSpec, transport: TransportConfig | None = None) -> Target:
    """Build the backend for a spec. Heavy backends are imported only when used."""
    transport = transport or TransportConfig()
    if spec.kind == "openai-compat":
        from glasnost.targets.openai_compat import OpenAICompatTarget

        return OpenAICompatTarget(spec, transport)
    if spec.kind == "local":
        from glasnost.targets.local import LocalTarget

        return LocalTarget(spec, transport)
    if spec.kind == "replay":
        from glasnost.targets.replay import ReplayTarget

        return ReplayTarget(spec, transport)
    from glasnost.errors import ConfigError

    raise ConfigError(f"unknown target kind {spec.kind!r}; known: openai-compat, local, replay")
