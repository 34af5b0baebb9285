"""glasnost: audit language models for political censorship, with evidence."""

__version__ = "0.1.0"
