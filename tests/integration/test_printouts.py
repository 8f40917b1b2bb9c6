"""The letter and the reply as PDFs through the gateways' API, on the real consortium.

Both parties' gateways print the same bytes for the same document (the firm's from its own letter
and the verified reply, the bank's from what it received and sent), the auditor's tools print them
again from the evidence alike, the CLI downloads them and the evidence package carries them;
before a reply exists there is none to print.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from auditor_client.evidence import load_package
from confirmnet.cli import app
from node_gateway.protocol import parse_letter, parse_reply
from node_gateway.protocol.printing import ChainRecord, letter_pdf, reply_pdf

from .flows import (
    accept_and_reply,
    close_when_replied,
    compose,
    letter_view,
    new_auditee,
    ok,
    request,
    sign_and_submit,
    wait_in_inbox,
)
from .harness import Consortium

pytestmark = [pytest.mark.anvil]


def test_both_parties_print_the_same_letter_and_reply(consortium: Consortium, tmp_path: Path) -> None:
    auditee = new_auditee(consortium, 71)
    letter = compose(consortium, auditee)
    (created,) = request(consortium, [letter])
    letter_id = created["letter_id"]
    with consortium.firm.client("auditor") as firm:
        early = firm.get(f"/v1/letters/{letter_id}/reply.pdf")
        assert early.status_code == 404, early.text
        assert early.json()["error"]["code"] == "not_found"
        printed = firm.get(f"/v1/letters/{letter_id}/letter.pdf")
    ok_pdf(printed)
    assert printed.headers["content-disposition"].endswith('-letter.pdf"')

    sign_and_submit(consortium, [letter_id], auditee.signer)
    wait_in_inbox(consortium, [letter_id])
    numbered = parse_letter(letter_view(consortium.firm, "auditor", letter_id)["letter"])  # its 函证编号
    accept_and_reply(consortium, numbered, created["letter_hash"], with_exception=True)
    close_when_replied(consortium, letter_id)
    with consortium.firm.client("auditor") as firm:
        firm_letter = ok_pdf(firm.get(f"/v1/letters/{letter_id}/letter.pdf"))
        firm_reply = ok_pdf(firm.get(f"/v1/letters/{letter_id}/reply.pdf"))
        evidence = ok(firm.get(f"/v1/letters/{letter_id}/evidence"))
    with consortium.bank.client("officer") as bank:
        bank_letter = ok_pdf(bank.get(f"/v1/letters/{letter_id}/letter.pdf"))
        bank_reply = ok_pdf(bank.get(f"/v1/letters/{letter_id}/reply.pdf"))
    assert firm_letter == bank_letter
    assert firm_reply == bank_reply
    # ...and from the evidence package, as the auditor's tools print them.
    chain = evidence["chain"]
    stored_letter = parse_letter(evidence["letter"])
    record = ChainRecord(chain["chain_id"], chain["confirmation_registry"], evidence["letter_hash"])
    assert letter_pdf(stored_letter, record) == firm_letter
    record = ChainRecord(chain["chain_id"], chain["confirmation_registry"], evidence["reply_hash"])
    assert reply_pdf(parse_reply(evidence["reply"]), stored_letter, record) == firm_reply

    # The CLI downloads them, and the evidence package carries them.
    env = {
        "CONFIRMNET_GATEWAY": consortium.firm.url,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditor"],
    }
    result = CliRunner().invoke(app, ["auditor", "pdf", letter_id, "-o", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{letter_id}-letter.pdf").read_bytes() == firm_letter
    assert (tmp_path / f"{letter_id}-reply.pdf").read_bytes() == firm_reply
    package = tmp_path / "evidence.json"
    result = CliRunner().invoke(app, ["auditor", "evidence", letter_id, "-o", str(package)], env=env)
    assert result.exit_code == 0, result.output
    printouts = load_package(package).letters[0].printouts
    assert printouts is not None
    assert (printouts.letter(), printouts.reply()) == (firm_letter, firm_reply)


def ok_pdf(response: httpx.Response) -> bytes:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response.content


def test_a_letter_of_no_ones_is_not_found(consortium: Consortium) -> None:
    unknown = "0x" + "cd" * 32
    with consortium.firm.client("auditor") as firm:
        response = firm.get(f"/v1/letters/{unknown}/letter.pdf")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
