"""The question bank: load, select, fingerprint, validate, import."""

from glasnost.bank.load import Bank, load_bank, builtin_bank_dir

__all__ = ["Bank", "load_bank", "builtin_bank_dir"]
