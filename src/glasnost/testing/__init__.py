"""Test and benchmark helpers that ship with glasnost (a mock OpenAI-compatible server)."""
