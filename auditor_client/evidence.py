"""Evidence packages: one file holding what proves one letter, or an engagement's letters.

The format (``confirmnet.evidence`` version 1) is documented in ``docs/EVIDENCE.md``. A package
carries the documents exactly as hashed, their salts, the auditee's authorisation with its
Merkle proof, and the chain references of every step; ``confirmnet verify`` checks all of it
against any node of the network, trusting no gateway. Documents stay plain JSON objects here (not
parsed models), so that a package with an altered document still loads and the verifier can say
which letter is wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from auditor_client.errors import AuditorClientError
from node_gateway.protocol import as_salt, auditee_reference, to_hex
from node_gateway.protocol.wire import Evidence, Identity

FORMAT: Literal["confirmnet.evidence"] = "confirmnet.evidence"
VERSION: Literal[1] = 1


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


class EvidenceLetter(_Model):
    letter_id: str
    status: str
    firm: int
    bank: int
    auditee_ref: str
    due_at: int | None
    letter: dict[str, Any]
    letter_salt: str
    letter_hash: str
    reply: dict[str, Any] | None = None
    reply_salt: str | None = None
    reply_hash: str | None = None
    auditee_salt: str | None = Field(
        None, description="Opens the auditee reference, when the exporter had it"
    )
    authorisation: EvidenceAuthorisation | None = None
    steps: list[EvidenceStep]


class EvidencePackage(_Model):
    format: Literal["confirmnet.evidence"] = FORMAT
    version: Literal[1] = VERSION
    scope: Literal["letter", "engagement"]
    engagement: str | None = None
    exported_at: datetime
    exported_by: Exporter
    network: EvidenceNetwork
    letters: list[EvidenceLetter] = Field(min_length=1)

    def save(self, path: Path) -> None:
        """Writes the package (UTF-8 JSON, readable Chinese), replacing ``path`` atomically."""
        text = json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)

    def split(self) -> list[EvidencePackage]:
        """One package per letter."""
        return [self.model_copy(update={"scope": "letter", "letters": [letter]}) for letter in self.letters]


def load_package(path: Path) -> EvidencePackage:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvidenceError(f"{path} is not a JSON file: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise EvidenceError(f"{path} is not a confirmnet evidence package")
    if raw.get("version") != VERSION:
        raise EvidenceError(f"{path} is version {raw.get('version')}; this tool reads version {VERSION}")
    try:
        return EvidencePackage.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise EvidenceError(f"{path}: {where}: {first['msg']} ({exc.error_count()} problem(s))") from exc


def _due_at(steps: Sequence[EvidenceStep]) -> int | None:
    requested = next((s for s in steps if s.name == "LetterRequested"), None)
    return int(requested.args["dueAt"]) if requested and "dueAt" in requested.args else None


def _opening_salt(evidence: Evidence, auditee_salts: Iterable[bytes]) -> str | None:
    code = evidence.letter.get("auditee", {}).get("registration_code")
    if not code:
        return None
    for salt in auditee_salts:
        if to_hex(auditee_reference(code, as_salt(salt))) == evidence.auditee_ref:
            return to_hex(salt)
    return None


def evidence_letter(evidence: Evidence, *, auditee_salts: Iterable[bytes] = ()) -> EvidenceLetter:
    """A package's letter from the gateway's evidence of it."""
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
        letter=evidence.letter,
        letter_salt=evidence.letter_salt,
        letter_hash=evidence.letter_hash,
        reply=evidence.reply,
        reply_salt=evidence.reply_salt,
        reply_hash=evidence.reply_hash,
        auditee_salt=_opening_salt(evidence, auditee_salts),
        authorisation=authorisation,
        steps=steps,
    )


def build_package(
    evidences: Sequence[Evidence],
    *,
    identity: Identity,
    gateway: str,
    engagement: str | None = None,
    auditee_salts: Sequence[bytes] = (),
) -> EvidencePackage:
    """A package of the gateway's evidence of one or more letters of one network."""
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
        letters=[evidence_letter(e, auditee_salts=auditee_salts) for e in evidences],
    )


def export_package(
    fetch: Callable[[str], Evidence],
    letter_ids: Sequence[str],
    *,
    identity: Identity,
    gateway: str,
    engagement: str | None = None,
    auditee_salts: Sequence[bytes] = (),
    progress: Callable[[int], None] = lambda _: None,
) -> EvidencePackage:
    """Fetches each letter's evidence with ``fetch`` (e.g. ``Client.get_evidence``) and packages it."""
    evidences = []
    for letter_id in letter_ids:
        evidences.append(fetch(letter_id))
        progress(1)
    return build_package(
        evidences, identity=identity, gateway=gateway, engagement=engagement, auditee_salts=auditee_salts
    )
