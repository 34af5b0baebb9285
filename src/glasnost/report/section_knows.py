"""Hook: the knows-vs-says section lives with its measure in glasnost.knows (see glasnost/knows/section.py)."""

from glasnost.knows.section import SECTION

__all__ = ["SECTION"]
