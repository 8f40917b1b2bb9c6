"""A letter whose authorisation the chain refused goes back to the firm like one never authorised,
unless the auditee's signer authorises it again: the signed authorisations of two letters are
submitted, the bank revokes the signer's mandate before they reach the chain, the chain refuses
both (their outbox steps fail); mandated again, the signer authorises one of them anew, which goes
out in its turn; ten days after the request the housekeeping returns the other (firm's gateway on
the in-process chain, outbox and indexer run by hand, the clock injected)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from node_gateway.services.firm_review import DAY_S, NOT_AUTHORISED_IN_TIME
from node_gateway.services.housekeeping import Housekeeping
from node_gateway.storage.models import OutboxTransaction

from .test_firm_review import Firm, _authorise, _firm

if TYPE_CHECKING:
    from conftest import Chain


@pytest.fixture
def plain(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    yield from _firm(in_process, tmp_path)


def _authorisation_states(firm: Firm, letter_id: str) -> list[str]:
    with firm.node.db.session() as session:
        return list(
            session.scalars(
                select(OutboxTransaction.state)
                .where(OutboxTransaction.letter_id == letter_id, OutboxTransaction.step == "authorise")
                .order_by(OutboxTransaction.id)
            )
        )


def test_a_letter_whose_authorisation_the_chain_refused_goes_back(plain: Firm) -> None:
    returned, signed_again = (x["letter_id"] for x in plain.prepare("assistant", count=2))
    plain.settle()
    requested_at = plain.deployed.now()
    _authorise(plain, returned)
    _authorise(plain, signed_again)
    # The bank revokes the signer's mandate before the authorisations reach the chain.
    reference = plain.reference
    deployed = plain.deployed
    deployed.send(deployed.bank, deployed.confirmations.revoke_mandate(reference, deployed.signer.address))
    plain.settle()
    assert _authorisation_states(plain, returned) == ["failed"] == _authorisation_states(plain, signed_again)
    assert plain.letter(returned)["status"] == "REQUESTED"
    # Mandated again, the signer authorises one letter anew: a step of its own, on its way.
    deployed.register_mandate(deployed.bank, reference, deployed.signer.address)
    _authorise(plain, signed_again)
    assert _authorisation_states(plain, signed_again) == ["failed", "pending"]

    housekeeping = Housekeeping(plain.node, clock=lambda: requested_at + 10 * DAY_S + 60)
    assert housekeeping.return_letters() == [returned]
    plain.settle()
    view = plain.letter(returned)
    assert (view["status"], view["returned"]) == ("WITHDRAWN", NOT_AUTHORISED_IN_TIME)
    assert plain.letter(signed_again)["status"] == "AUTHORISED"
    assert plain.letter(signed_again)["returned"] is None
