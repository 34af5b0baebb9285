"""Knows vs says: does a model that deflects not know, or know and withhold? (docs/knows-vs-says.md)

- ``mcq``: multiple-choice probes for chat targets (shuffled lettered options, reproducible per sample);
- ``letters``: reading the chosen letter (and the probability on each letter) out of a reply;
- ``kinds``: what ``glasnost run --kinds`` selects (bank kinds, plus ``prefill``);
- ``scores``: white-box likelihood probes of local targets (option likelihood, prefill pairs);
- ``checks`` and ``measure``: pairing each check with the open answer, and the shares with intervals;
- ``section``: the report section (chart and tables), registered by ``glasnost/report/section_knows.py``.

This package is imported by the runner (kinds, mcq, scores), so it imports nothing heavy at import time.
"""
