"""Moved: the one reasoning splitter for every convention is ``glasnost.reasoning`` (issue 12). Kept so that
older imports keep working."""

from glasnost.reasoning import Split, answer_outcome, content_text, split_reasoning

__all__ = ["Split", "answer_outcome", "content_text", "split_reasoning"]
