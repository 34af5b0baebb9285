"""Statistics: rates with intervals, asymmetry, language and host gaps, paired tests, judge agreement.

numpy only (scipy is a development dependency for checking these against reference values).
"""

from glasnost.stats.agreement import Kappa, cohen_kappa, fleiss_kappa, fleiss_kappa_from_labels
from glasnost.stats.analysis import Analysis, analyze
from glasnost.stats.asymmetry import STATUSES, Asymmetry, asymmetries, classify, mirror_groups, topic_families
from glasnost.stats.compat import comparability, comparability_fingerprint, differences
from glasnost.stats.data import AuditData, choose_judge, load_audit
from glasnost.stats.intervals import bootstrap_mean, cluster_bootstrap_ratio, newcombe, wilson
from glasnost.stats.multiple import benjamini_hochberg, holm
from glasnost.stats.paired import PairedResult, host_gaps, language_gaps, paired_difference
from glasnost.stats.rates import Estimate, clustered_rate, wilson_rate
from glasnost.stats.significance import (
    McNemar, binom_two_sided_half, mcnemar, sign_flip_interval, sign_flip_min_p, sign_flip_test,
)

__all__ = [
    "Analysis", "Asymmetry", "AuditData", "Estimate", "Kappa", "McNemar", "PairedResult",
    "analyze", "asymmetries", "benjamini_hochberg", "binom_two_sided_half", "bootstrap_mean", "choose_judge",
    "cluster_bootstrap_ratio", "clustered_rate", "cohen_kappa", "comparability", "comparability_fingerprint",
    "differences", "fleiss_kappa", "fleiss_kappa_from_labels", "holm", "host_gaps", "language_gaps",
    "load_audit", "mcnemar", "mirror_groups", "paired_difference", "sign_flip_test", "wilson", "wilson_rate",
    "STATUSES", "classify", "newcombe", "sign_flip_interval", "sign_flip_min_p", "topic_families",
]
