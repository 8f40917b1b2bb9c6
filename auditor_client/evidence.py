"""Evidence packages: one file holding what proves one letter, or an engagement's letters.

The format (``confirmnet.evidence`` version 2) is documented in ``docs/EVIDENCE.md``. A package
carries the documents exactly as hashed, their salts, the auditee's authorisation with its
Merkle proof, the chain references of every step, and the letter and the reply as the gateway
printed them (PDF); ``confirmnet verify`` checks all of it against any node of the network,
trusting no gateway.

Each document is its RFC 8785 bytes as a string, the bytes its salted hash on chain was made
from: the verifier hashes them as they are, and whatever is shown of a document (the verifier's
table, the PDF summary) is parsed from that same string. Version 1 held each document as a JSON
object; it is still read, each object taken as its canonical text (what was hashed, when the
object is as hashed; anything else fails the hash and is named). A package with an altered
document still loads, so that the verifier can say which letter is wrong.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import from_json

from auditor_client.errors import AuditorClientError
from node_gateway.protocol.hashing import canonical_json
from node_gateway.protocol.wire import Evidence, Identity

FORMAT: Literal["confirmnet.evidence"] = "confirmnet.evidence"
VERSION: Literal[2] = 2
READABLE = (1, 2)  # version 1: documents as JSON objects


class EvidenceError(AuditorClientError):
    """A file that is not an evidence package of a version this tool reads."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceNetwork(_Model):
    chain_id: int
    member_registry: str
    confirmation_registry: str
    deployment_block: int


class Exporter(_Model):
    member_no: int | None
    name: str
    gateway: str


class EvidenceStep(_Model):
    """One event of the letter on chain, where the gateway saw it."""

    name: str
    block_number: int
    block_timestamp: int
    transaction_hash: str
    args: dict[str, Any] = Field(default_factory=dict)


class EvidenceAuthorisation(_Model):
    """The auditee's signed authorisation (or refusal) and the proof that it covers this letter."""

    kind: Literal["authorise", "refuse"]
    signer: str
    signature: str
    requests_root: str
    firm: int
    valid_until: int
    nonce: int
    reason: int | None = None
    proof: list[str] | None = None


class EvidencePrintouts(_Model):
    """The letter and the reply as PDFs (base64), as the exporting gateway printed them.

    Printing is deterministic: the same documents and chain record give the same bytes, so
    ``node_gateway.protocol.printing`` re-prints them from the package's documents to show they say
    what was hashed.
    """

    letter_pdf: str
    reply_pdf: str | None = None

    @classmethod
    def of(cls, letter_pdf: bytes, reply_pdf: bytes | None) -> EvidencePrintouts:
        return cls(
            letter_pdf=base64.b64encode(letter_pdf).decode(),
            reply_pdf=base64.b64encode(reply_pdf).decode() if reply_pdf is not None else None,
        )

    def letter(self) -> bytes:
        return base64.b64decode(self.letter_pdf, validate=True)

    def reply(self) -> bytes | None:
        return None if self.reply_pdf is None else base64.b64decode(self.reply_pdf, validate=True)


class EvidenceLetter(_Model):
    letter_id: str
    status: str
    firm: int
    bank: int
    auditee_ref: str | None = Field(description="The auditee reference on chain, once authorised or refused")
    due_at: int | None
    letter: str = Field(description="The letter's RFC 8785 bytes (UTF-8): exactly what was hashed")
    letter_salt: str
    letter_hash: str
    reply: str | None = Field(None, description="The reply's RFC 8785 bytes, like the letter's")
    reply_salt: str | None = None
    reply_hash: str | None = None
    auditee_salt: str | None = Field(
        None, description="Opens the auditee reference: the bank's salt, sent with its reply"
    )
    authorisation: EvidenceAuthorisation | None = None
    steps: list[EvidenceStep]
    printouts: EvidencePrintouts | None = None

    def letter_document(self) -> dict[str, Any]:
        """The letter, parsed from the bytes that were hashed (to show it; checking needs no parse)."""
        return parsed_document(self.letter)

    def reply_document(self) -> dict[str, Any] | None:
        return None if self.reply is None else parsed_document(self.reply)


def parsed_document(text: str) -> dict[str, Any]:
    """A document's JSON object from its stored text; empty if the text is none (the verifier
    names that)."""
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def document_text(document: Any) -> str:
    """A document object's canonical text, as a version-1 package is read and an older gateway's
    evidence is packaged: RFC 8785, or (for what has none, such as a lone surrogate) compact JSON
    that will not hash to what the chain recorded, so that the verifier names the document."""
    try:
        return canonical_json(document).decode("utf-8")
    except ValueError:
        return json.dumps(document, separators=(",", ":"))


def _version_1_letter(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    return {
        **entry,
        **{
            kind: document_text(entry[kind])
            for kind in ("letter", "reply")
            if isinstance(entry.get(kind), dict)
        },
    }


class EvidencePackage(_Model):
    format: Literal["confirmnet.evidence"] = FORMAT
    version: Literal[2] = VERSION
    scope: Literal["letter", "engagement"]
    engagement: str | None = None
    exported_at: datetime
    exported_by: Exporter
    network: EvidenceNetwork
    letters: list[EvidenceLetter] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _read_version_1(cls, data: Any) -> Any:
        """A version-1 package, its documents taken as their canonical text."""
        if not isinstance(data, dict) or data.get("version") != 1:
            return data
        letters = data.get("letters")
        if isinstance(letters, list):
            letters = [_version_1_letter(entry) for entry in letters]
        return {**data, "version": VERSION, "letters": letters}

    def save(self, path: Path) -> None:
        """Writes the package (compact UTF-8 JSON, Chinese unescaped), replacing ``path`` atomically."""
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(self.model_dump_json().encode("utf-8") + b"\n")
        os.replace(partial, path)

    def split(self) -> list[EvidencePackage]:
        """One package per letter."""
        return [self.model_copy(update={"scope": "letter", "letters": [letter]}) for letter in self.letters]


@contextlib.contextmanager
def paused_collection() -> Iterator[None]:
    """Python's cycle collector paused while a package is read or verified: what is built then
    (parsed JSON, models, verdicts) holds no cycles and is freed as it goes, and the collector's
    passes over the growing heap took a sixth of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _promote_young()
            gc.enable()


def _promote_young() -> None:
    """What the pause built moved to the collector's oldest generation at once: else the first
    allocation after the pause makes the collector pass over all of it as young objects (a
    package's worth), between reading a package and verifying it and again after. Not where
    the process froze objects of its own (``gc.freeze``), which this would thaw."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def load_package(path: Path) -> EvidencePackage:
    with paused_collection():
        return _load_package(path)


def _load_package(path: Path) -> EvidencePackage:
    try:
        raw = from_json(path.read_bytes())  # pydantic's parser: half again as fast as json's
    except (OSError, ValueError) as exc:
        raise EvidenceError(f"{path} is not a JSON file: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise EvidenceError(f"{path} is not a confirmnet evidence package")
    if raw.get("version") not in READABLE:
        raise EvidenceError(
            f"{path} is version {raw.get('version')}; this tool reads versions "
            + " and ".join(map(str, READABLE))
        )
    try:
        return EvidencePackage.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise EvidenceError(f"{path}: {where}: {first['msg']} ({exc.error_count()} problem(s))") from exc


def _due_at(steps: Sequence[EvidenceStep]) -> int | None:
    requested = next((s for s in steps if s.name == "LetterRequested"), None)
    return int(requested.args["dueAt"]) if requested and "dueAt" in requested.args else None


def evidence_letter(evidence: Evidence, *, printouts: EvidencePrintouts | None = None) -> EvidenceLetter:
    """A package's letter from the gateway's evidence of it (and its printouts, when fetched): the
    auditee salt is the one the bank sent with its reply, as the firm's gateway kept it."""
    steps = [EvidenceStep.model_validate(step.model_dump()) for step in evidence.steps]
    authorisation = (
        EvidenceAuthorisation.model_validate(evidence.authorisation) if evidence.authorisation else None
    )
    return EvidenceLetter(
        letter_id=evidence.letter_id,
        status=evidence.status,
        firm=evidence.firm,
        bank=evidence.bank,
        auditee_ref=evidence.auditee_ref,
        due_at=_due_at(steps),
        letter=evidence.letter_canonical or document_text(evidence.letter),
        letter_salt=evidence.letter_salt,
        letter_hash=evidence.letter_hash,
        reply=evidence.reply_canonical or (None if evidence.reply is None else document_text(evidence.reply)),
        reply_salt=evidence.reply_salt,
        reply_hash=evidence.reply_hash,
        auditee_salt=evidence.auditee_salt,
        authorisation=authorisation,
        steps=steps,
        printouts=printouts,
    )


def build_package(
    evidences: Sequence[Evidence],
    *,
    identity: Identity,
    gateway: str,
    engagement: str | None = None,
    printouts: Sequence[EvidencePrintouts | None] = (),
) -> EvidencePackage:
    """A package of the gateway's evidence of one or more letters of one network, with each
    letter's printouts when given (in the same order)."""
    if not evidences:
        raise EvidenceError("a package holds at least one letter")
    chains = {e.chain.model_dump_json() for e in evidences}
    if len(chains) != 1:
        raise EvidenceError("the letters come from different networks")
    chain = evidences[0].chain
    return EvidencePackage(
        scope="letter" if len(evidences) == 1 and engagement is None else "engagement",
        engagement=engagement,
        exported_at=datetime.now(UTC),
        exported_by=Exporter(member_no=identity.member_id, name=identity.display_name, gateway=gateway),
        network=EvidenceNetwork(**chain.model_dump()),
        letters=[
            evidence_letter(e, printouts=p)
            for e, p in zip(evidences, printouts or [None] * len(evidences), strict=True)
        ],
    )


def export_package(
    fetch: Callable[[str], Evidence],
    letter_ids: Sequence[str],
    *,
    identity: Identity,
    gateway: str,
    engagement: str | None = None,
    progress: Callable[[int], None] = lambda _: None,
    fetch_pdf: Callable[[str, Literal["letter", "reply"]], bytes] | None = None,
) -> EvidencePackage:
    """Fetches each letter's evidence with ``fetch`` (e.g. ``Client.get_evidence``) and packages it;
    with ``fetch_pdf`` (e.g. ``lambda i, kind: client.letter_pdf(i) if kind == "letter" else
    client.reply_pdf(i)``) the letter's and the reply's PDFs too."""
    evidences: list[Evidence] = []
    printouts: list[EvidencePrintouts | None] = []
    for letter_id in letter_ids:
        evidence = fetch(letter_id)
        evidences.append(evidence)
        if fetch_pdf is not None:
            reply_pdf = fetch_pdf(letter_id, "reply") if evidence.reply is not None else None
            printouts.append(EvidencePrintouts.of(fetch_pdf(letter_id, "letter"), reply_pdf))
        progress(1)
    return build_package(
        evidences,
        identity=identity,
        gateway=gateway,
        engagement=engagement,
        printouts=printouts,
    )
