"""Valid and invalid format-2 bundles with the reason code every verifier must give (docs/bundle-format.md).

Not a test module: test_bundle_js.py runs both verifiers over these cases, and

    python tests/bundle_cases.py --write docs/bundle-vectors

writes the conformance vectors (fixed keys, fixed times: the same bytes every time; a test checks that the
committed vectors are what this file writes).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from glasnost.bundle import jcs  # noqa: E402
from glasnost.bundle.archive import gzip_bytes, read_members, tar_bytes, write_archive  # noqa: E402
from glasnost.bundle.export import export_run, seal  # noqa: E402
from glasnost.bundle.format import ARCHIVE_ORDER, CONTENT_MEMBERS  # noqa: E402
from glasnost.bundle.keys import AuditorKey  # noqa: E402
from glasnost.records import GenerationConfig, Label, Outcome  # noqa: E402
from glasnost.run.plan import item_key  # noqa: E402
from test_bundle_fixtures import BANK, CONCEPTS, Item, build_run, target  # noqa: E402


def fixed_key(name: str) -> AuditorKey:
    """A key derived from its name: vectors must be the same bytes on every machine."""
    seed = hashlib.sha256(f"glasnost conformance vector key {name}".encode()).digest()
    return AuditorKey(name, Ed25519PrivateKey.from_private_bytes(seed))


GEN = GenerationConfig(temperature=0.7, top_p=0.95, max_tokens=512, seed=7)


class RealItem(Item):
    """An item whose key is the real recipe (glasnost.run.plan.item_key), so key_recipe is declared."""

    @property
    def key(self) -> str:
        probe = BANK.by_id[self.concept].probe(self.lang)
        return item_key(probe, self.target, GEN, None, self.sample)


def export(items: list[Item], signer: AuditorKey, judge: str | None = "default@1.r3.m2", **manifest_kw) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        store = build_run(Path(folder) / "s.db", "run-v", items, judge=judge, manifest_kw=manifest_kw or None)
        try:
            return export_run(store, "run-v", signer).data
        finally:
            store.close()


def basic_items() -> list[Item]:
    t = target("model-a")
    labels = [Label.answered, Label.refused, Label.deflected]
    items = [Item(t, c.id, "en", labels[i]) for i, c in enumerate(CONCEPTS[:3])]
    items.append(Item(t, CONCEPTS[0].id, "zh", Label.state_narrative))
    items.append(Item(t, CONCEPTS[1].id, "zh", Label.error, outcome=Outcome.error, text=None))
    items.append(Item(t, CONCEPTS[2].id, "zh", Label.refused, status="judge_error"))
    return items


def real_key_items() -> list[Item]:
    t = target("model-k", name="Model K (display name)")
    return [RealItem(t, c.id, lang, Label.answered if i % 2 else Label.blocked) for i, c in enumerate(CONCEPTS[:2]) for lang in ("en", "zh")]


def unicode_items() -> list[Item]:
    t = target("模型-ü", base_url="https://例子.example/v1")
    text = "Zoë says \u2028 line, tab\t, bell \u0007, quote \" and emoji 😀 \U0001f1e8\U0001f1f3 \x7f"
    return [Item(t, CONCEPTS[0].id, "en", Label.answered, text=text), Item(t, CONCEPTS[1].id, "zh", Label.refused, text="不")]


def tie_items() -> list[Item]:
    """128 counted responses, 1 censored: rate 1/128 = 0.0078125 exactly, a tie at 6 decimals (→ 0.007812)."""
    t = target("model-t")
    return [
        Item(t, CONCEPTS[i % 6].id, "en", Label.refused if i == 0 else Label.answered, sample=i // 6, text="ok")
        for i in range(128)
    ]


@dataclass
class Case:
    name: str
    data: bytes
    reason: str | None  # None: valid
    note: str
    trust: list[str] | None = None  # auditor.pub lines of a trust file


# ----------------------------------------------------------------------------------------------------------
# Tampering helpers
# ----------------------------------------------------------------------------------------------------------


def members(data: bytes) -> dict[str, bytes]:
    return read_members(data)


def content(data: bytes) -> dict[str, bytes]:
    m = members(data)
    return {n: m[n] for n in CONTENT_MEMBERS}


def lines(member: bytes) -> list[dict]:
    return [json.loads(x) for x in member.decode().splitlines()]


def jsonl(rows: list) -> bytes:
    return "".join(jcs.dumps(r) + "\n" for r in rows).encode()


def one(obj) -> bytes:
    return (jcs.dumps(obj) + "\n").encode()


def resealed(data: bytes, signer: AuditorKey | None = None, recipe: str | None = "auto", **changes: bytes) -> bytes:
    """Content changed, then properly re-hashed and re-signed (by alice unless said): what a dishonest
    publisher can do."""
    signer = signer or fixed_key("alice")
    c = content(data)
    c.update({k.replace("__", "."): v for k, v in changes.items()})
    return seal(c, signer, recipe=recipe)[0]


def rewrapped(data: bytes, **changes: bytes) -> bytes:
    """Members changed in place; hashes and signature untouched."""
    m = members(data)
    m.update({k.replace("__", "."): v for k, v in changes.items()})
    return write_archive(m)


def raw_gzip_tar(entries: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, payload in entries:
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return gzip_bytes(buf.getvalue())


def entry(name: str, payload: bytes, **fields) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(payload), 0o644, 0
    for k, v in fields.items():
        setattr(info, k, v)
    return info, payload


def tar_of(m: dict[str, bytes], order=ARCHIVE_ORDER, **fields) -> list[tuple[tarfile.TarInfo, bytes]]:
    return [entry(n, m[n], **fields) for n in order]


def pax_entries(m: dict[str, bytes]) -> list[tuple[tarfile.TarInfo, bytes]]:
    entries = tar_of(m)
    entries[0][0].pax_headers = {"comment": "pax"}
    return entries


def newline_key(record: dict) -> None:
    name = "key" if "key" in record else "response_key"
    record[name] += "\n"


def same_id_target(manifest: dict) -> None:
    first = manifest["targets"][0]
    twin = dict(first, model="another-model", name=f"{first['base_url']}#{first['model']}")
    manifest["targets"].append(twin)


def relabel(v: dict) -> None:
    if v["label"] == "deflected":
        v["label"] = "answered"


def gz(tar: bytes) -> bytes:
    return gzip_bytes(tar)


def edit_line(member: bytes, n: int, fn: Callable[[dict], None]) -> bytes:
    rows = lines(member)
    fn(rows[n])
    return jsonl(rows)


def edit_doc(member: bytes, fn: Callable[[dict], None]) -> bytes:
    obj = json.loads(member)
    fn(obj)
    return one(obj)


def text_replace(member: bytes, old: str, new: str) -> bytes:
    assert old.encode() in member, old
    return member.replace(old.encode(), new.encode(), 1)


# ----------------------------------------------------------------------------------------------------------
# The cases
# ----------------------------------------------------------------------------------------------------------


def valid_cases(alice: AuditorKey) -> list[Case]:
    return [
        Case("valid-basic", export(basic_items(), alice), None, "6 responses, 1 error outcome, 1 judge error"),
        Case("valid-real-keys", export(real_key_items(), alice, generation=GEN), None,
             "key_recipe declared: every key recomputes (temperature 0.7, top_p 0.95, display name)"),
        Case("valid-responses-only", export(basic_items(), alice, judge=None), None, "no judge: judge null, all unjudged"),
        Case("valid-unicode", export(unicode_items(), fixed_key("Zoë 中文 auditor")), None,
             "non-ASCII auditor, model, host; U+2028, control characters, emoji in text"),
        Case("valid-tie-rounding", export(tie_items(), alice), None, "rate 1/128 = 0.0078125 rounds half-even to 0.007812"),
    ]


def invalid_cases(base: bytes, alice: AuditorKey, mallory: AuditorKey, real: bytes, tie: bytes) -> list[Case]:
    m = members(base)
    c = content(base)
    sig = json.loads(m["signature.json"])
    toc = json.loads(m["toc.json"])
    resp, verd, summ = c["responses.jsonl"], c["verdicts.jsonl"], c["summary.json"]
    pad_sig = dict(sig, signature=sig["signature"][:-3] + chr(ord(sig["signature"][-3]) + 1) + "==")  # A→B, Q→R, g→h, w→x
    cases = [
        # container
        Case("container-not-gzip", gzip.decompress(base), "container", "a bare tar"),
        Case("container-trailing-data", base + b"\x00\x00", "container", "bytes after the gzip stream"),
        Case("container-second-gzip-member", base + gzip.compress(b"x", mtime=0), "container", "a second gzip member"),
        Case("container-gzip-file-name", gz(tar_bytes(m))[:3] + b"\x08" + gz(tar_bytes(m))[4:10] + b"a\x00" + gz(tar_bytes(m))[10:],
             "container", "gzip header with a file name"),
        Case("container-gzip-level-6", gzip.compress(tar_bytes(m), compresslevel=6, mtime=0), "container",
             "XFL 0 instead of 2 (not the fixed header)"),
        Case("container-out-of-order", raw_gzip_tar(tar_of(m, ARCHIVE_ORDER[::-1])), "container", "members in reverse order"),
        Case("container-mtime", raw_gzip_tar(tar_of(m, mtime=1700000000)), "container", "a header with mtime set"),
        Case("container-owner", raw_gzip_tar(tar_of(m, uname="alice", uid=1000)), "container", "a header with an owner"),
        Case("container-pax", raw_gzip_tar(pax_entries(m), fmt=tarfile.PAX_FORMAT), "container", "a pax extended header"),
        Case("container-extra-member", raw_gzip_tar(tar_of(m) + [entry("notes.txt", b"hi")]), "container", "an eighth member"),
        Case("container-dotdot", raw_gzip_tar(tar_of(m) + [entry("../evil.json", b"{}")]), "container", "a ../ name"),
        Case("container-absolute", raw_gzip_tar([entry("/etc/toc.json", m["toc.json"])] + tar_of(m)[1:]), "container", "an absolute name"),
        Case("container-symlink", raw_gzip_tar(tar_of(m)[:-1] + [entry("verdicts.jsonl", b"", type=tarfile.SYMTYPE, linkname="/etc/passwd")]),
             "container", "a member that is a symlink"),
        Case("container-folder", raw_gzip_tar([entry("toc.json", b"", type=tarfile.DIRTYPE)] + tar_of(m)[1:]), "container", "a folder"),
        Case("container-duplicate", raw_gzip_tar(tar_of(m) + [entry("verdicts.jsonl", m["verdicts.jsonl"])]), "container", "a member twice"),
        Case("container-missing", raw_gzip_tar(tar_of(m)[:-1]), "container", "verdicts.jsonl missing"),
        Case("container-bomb", gz(tar_bytes(m) + bytes(6 * 1024 * 1024)), "container", "decompresses over 200 times its size past 4 MiB"),
        Case("container-truncated", base[: len(base) // 2], "container", "half a file"),
        # toc and root
        Case("toc-not-canonical", rewrapped(base, toc__json=json.dumps(toc, indent=1).encode() + b"\n"), "toc", "toc with spaces"),
        Case("toc-version-3", rewrapped(base, toc__json=one(dict(toc, format_version=3))), "toc", "an unknown format version"),
        Case("toc-member-order", rewrapped(base, toc__json=one(dict(toc, members=toc["members"][::-1]))), "toc", "members listed out of order"),
        Case("root-mismatch", rewrapped(base, toc__json=one(dict(toc, root="0" * 64))), "root", "a root that is not the toc's hash"),
        Case("root-key-recipe-flipped", rewrapped(base, toc__json=one(dict(toc, key_recipe="glasnost-item-key-1"))), "root",
             "key_recipe changed: it is covered by the root"),
        Case("member-hash", rewrapped(base, responses__jsonl=text_replace(resp, "answer about", "answer abouT")), "member_hash",
             "one byte of a response changed"),
        # signature
        Case("signature-other-key", rewrapped(base, signature__json=one(dict(sig, signature=json.loads(members(resealed(base, mallory))["signature.json"])["signature"]))),
             "signature", "a signature made by another key"),
        Case("signature-renamed", rewrapped(base, signature__json=one(dict(sig, auditor="Bob"))), "signature", "auditor name changed"),
        Case("signature-fingerprint", rewrapped(base, signature__json=one(dict(sig, fingerprint="a" * 64))), "signature", "fingerprint not of the key"),
        Case("signature-padding-bits", rewrapped(base, signature__json=one(pad_sig)), "signature",
             "base64 signature with non-zero padding bits (a lenient decoder reads the same bytes)"),
        Case("signature-algorithm", rewrapped(base, signature__json=one(dict(sig, algorithm="ed448"))), "signature", "algorithm not ed25519"),
        Case("untrusted", base, "untrusted", "valid, but the trust file holds only mallory's key", trust=[mallory.pub_line()]),
        # canonical form
        Case("canonical-float-integer", resealed(base, responses__jsonl=text_replace(resp, '"retries":0', '"retries":0.0')), "canonical",
             "0.0 where RFC 8785 writes 0"),
        Case("canonical-python-float", resealed(tie, summary__json=text_replace(members(tie)["summary.json"], '"unjudged":0', '"unjudged":0.0')),
             "canonical", "a v1-style float in the summary"),
        Case("canonical-huge-number", resealed(base, responses__jsonl=text_replace(resp, '"latency_ms":12.5', '"latency_ms":1.5e+300')), "canonical",
             "an integral number beyond 2^53 − 1 (1.5e+300): no reader can hold it exactly as an integer"),
        Case("canonical-escape", resealed(base, responses__jsonl=text_replace(resp, '"answer about', '"\\u0061nswer about')), "canonical",
             "a needless \\u escape"),
        Case("canonical-key-order", resealed(base, manifest__json=text_replace(c["manifest.json"], '{"bank":', '{"zzz":1,"bank":')), "canonical",
             "an unsorted object member"),
        Case("canonical-duplicate-key", resealed(base, summary__json=text_replace(summ, '"confidence":0.95,', '"confidence":0.95,"confidence":0.95,')),
             "canonical", "a member name twice"),
        Case("canonical-not-utf8", resealed(base, responses__jsonl=resp.replace(b"answer about", b"answer \xff", 1)),
             "canonical", "bytes that are not UTF-8"),
        Case("canonical-no-final-newline", resealed(base, verdicts__jsonl=verd[:-1]), "canonical", "the last line lacks its newline"),
        # schemas
        Case("schema-integer-as-string", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(sample_index="0"))), "schema", "\"0\" for an integer"),
        Case("schema-extra-field", resealed(base, verdicts__jsonl=edit_line(verd, 0, lambda v: v.update(note="x"))), "schema", "an unknown field"),
        Case("schema-missing-field", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.pop("reasoning"))), "schema", "a field left out"),
        Case("schema-bad-label", resealed(base, verdicts__jsonl=edit_line(verd, 0, lambda v: v.update(label="censored"))), "schema", "a label outside the taxonomy"),
        Case("schema-bad-date-time", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(started_at="2025-13-45T99:00:00Z"))), "schema", "an impossible date"),
        Case("schema-leap-second", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(finished_at="2016-12-31T23:59:60Z"))), "schema",
             "a leap second (validators disagree on them, so the format has none)"),
        Case("schema-feb-29", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(finished_at="2025-02-29T00:00:00Z"))), "schema",
             "a day that does not exist"),
        Case("schema-manifest-path", resealed(base, manifest__json=edit_doc(c["manifest.json"], lambda d: d["targets"][0].update(path="/home/x/replay.jsonl"))), "schema",
             "a manifest target with a local path"),
        Case("schema-counts-extra-label", resealed(base, summary__json=edit_doc(summ, lambda s: s["rows"][0]["counts"].update(censored=0))), "schema", "counts with a label outside the taxonomy"),
        Case("schema-bad-key", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(key="K" * 64))), "schema", "a key that is not lowercase hex"),
        Case("schema-key-trailing-newline", resealed(base, responses__jsonl=edit_line(resp, 0, newline_key), verdicts__jsonl=edit_line(verd, 0, newline_key)),
             "schema", "a key of 64 hex digits and a newline (Python's $ would match before it)"),
        Case("schema-bad-judge-id", resealed(base, summary__json=edit_doc(summ, lambda s: s.update(judge="default"))), "schema", "a judge id without @version"),
        # cross-checks
        Case("bank-fingerprint", resealed(base, bank__json=edit_doc(c["bank.json"], lambda b: b["concepts"][0].update(topic="edited"))), "bank", "a concept edited"),
        Case("bank-manifest-fingerprint", resealed(base, manifest__json=edit_doc(c["manifest.json"], lambda d: d["bank"].update(fingerprint="f" * 64))), "bank", "manifest names another bank"),
        Case("manifest-duplicate-target-id", resealed(base, manifest__json=edit_doc(c["manifest.json"], same_id_target)), "manifest",
             "a second target (another model) whose display name is the first target's id"),
        Case("responses-out-of-order", resealed(base, responses__jsonl=jsonl(lines(resp)[::-1])), "responses", "responses in reverse key order"),
        Case("responses-unknown-concept", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(concept_id="xx.none.q"))), "responses", "a concept not in the bank"),
        Case("responses-unknown-target", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r["target"].update(model="other"))), "responses", "a target not in the manifest"),
        Case("responses-target-id", resealed(base, responses__jsonl=edit_line(resp, 0, lambda r: r.update(target_id="renamed"))), "responses", "a target_id not the manifest target's id"),
        Case("response-key", resealed(real, recipe="glasnost-item-key-1", responses__jsonl=edit_line(content(real)["responses.jsonl"], 0, lambda r: r.update(prompt=r["prompt"] + "!"))),
             "response_key", "key_recipe declared, prompt changed"),
        Case("verdicts-orphan", resealed(base, verdicts__jsonl=edit_line(verd, 0, lambda v: v.update(response_key="0" * 64))), "verdicts", "a verdict for no bundled response"),
        Case("verdicts-other-judge", resealed(base, verdicts__jsonl=edit_line(verd, 0, lambda v: v.update(judge="llm:x@1.abc"))), "verdicts", "a verdict by another judge"),
        Case("summary-count", resealed(base, summary__json=edit_doc(summ, lambda s: s["rows"][0]["counts"].update(answered=s["rows"][0]["counts"]["answered"] + 1))),
             "summary", "a count changed"),
        Case("summary-last-digit", resealed(base, summary__json=edit_doc(summ, lambda s: s["rows"][0].update(rate=round(s["rows"][0]["rate"] + 1e-6, 6)))),
             "summary", "a rate off by 1e-6 (version 1 tolerated it)"),
        Case("summary-tie-rounded-up", resealed(tie, summary__json=text_replace(members(tie)["summary.json"], '"rate":0.007812', '"rate":0.007813')),
             "summary", "1/128 rounded half-up instead of half-even"),
        Case("summary-label-swap", resealed(base, verdicts__jsonl=jsonl([relabel(v) or v for v in lines(verd)])),
             "summary", "a label changed and re-signed: the published figures no longer follow"),
    ]
    return cases


def all_cases() -> list[Case]:
    alice, mallory = fixed_key("alice"), fixed_key("mallory")
    valid = valid_cases(alice)
    by_name = {c.name: c.data for c in valid}
    return valid + invalid_cases(by_name["valid-basic"], alice, mallory, by_name["valid-real-keys"], by_name["valid-tie-rounding"])


def write_vectors(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for case in all_cases():
        file = f"{case.name}.tar.gz"
        (folder / file).write_bytes(case.data)
        row = {"file": file, "valid": case.reason is None, "reason": case.reason, "note": case.note}
        if case.trust is not None:
            trust_file = f"{case.name}.trusted-keys.txt"
            (folder / trust_file).write_text("".join(line + "\n" for line in case.trust), encoding="utf-8")
            row["trust"] = trust_file
        manifest.append(row)
    doc = {"format": "glasnost-bundle-vectors", "format_version": 2, "vectors": manifest}
    (folder / "vectors.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write_vectors(Path(sys.argv[2]))
    else:
        print("usage: python tests/bundle_cases.py --write docs/bundle-vectors")
