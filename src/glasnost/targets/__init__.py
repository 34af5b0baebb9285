"""Targets: models behind endpoints (openai-compat), in-process models (local), recorded answers (replay)."""

from glasnost.targets.base import ChatMessage, ChatRequest, Target, build_messages, make_target

__all__ = ["ChatMessage", "ChatRequest", "Target", "build_messages", "make_target"]
