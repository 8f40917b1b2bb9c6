"""One network for the browser modules of this directory (the operator's pages, the regulator's,
every role's at a tablet's width): they add no letters and count only what the network holds, so
they share it. Starting anvil and the gateways is most of such a module's time; the network is
package-scoped, and one worker takes this directory's files together (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from integration.flows import (
    accept_and_reply,
    close_when_replied,
    compose,
    new_auditee,
    ok,
    request,
    sign_and_submit,
    wait_in_inbox,
)
from integration.harness import Consortium, start_consortium

from node_gateway.protocol.documents import RejectionReason

from ..conftest import PASSWORD


@dataclass
class Season:
    """The integration harness's consortium (an operator, an audit firm, a bank and a regulator)
    with four letters to the bank, run end to end through the gateways' APIs: two replied and
    closed, one accepted and awaiting its reply, one rejected at once as incomplete."""

    consortium: Consortium
    replies: list[dict[str, Any]]  # the two closed letters' replies, as the firm verified them
    bank: int  # the bank's member number

    @property
    def password_file(self) -> Path:
        """The web users' password (``PASSWORD``), for ``add_user``."""
        return self.consortium.network.base / "password.txt"


@pytest.fixture(scope="package")
def season_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    base = tmp_path_factory.mktemp("web-season")
    for consortium in start_consortium(base):
        (base / "password.txt").write_text(PASSWORD + "\n")
        auditee = new_auditee(consortium, 1)
        letters = [compose(consortium, auditee) for _ in range(4)]
        created = {row["letter_id"]: row for row in request(consortium, letters)}
        ids = [x.letter_id for x in letters]
        sign_and_submit(consortium, ids, auditee.signer)
        wait_in_inbox(consortium, ids)
        for letter in letters[:2]:
            accept_and_reply(consortium, letter, created[letter.letter_id]["letter_hash"])
        replies = [close_when_replied(consortium, x.letter_id) for x in letters[:2]]
        with consortium.bank.client("officer") as officer:
            rejected = f"/v1/letters/{letters[3].letter_id}/reject"
            ok(officer.post(rejected, json={"reason": RejectionReason.INCOMPLETE}), 202)
        yield Season(consortium, replies, consortium.bank.member_id())
