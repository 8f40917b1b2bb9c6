"""The auditee refuses a letter with its reason in words through ``confirmnet authorise refuse
--reason-text``, against the firm's gateway process on anvil: the letter is refused on chain with
the reason's code, and the firm's gateway shows the words with the letter (ISA 505 ¶8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner

from confirmnet.cli import app

from .flows import compose, letter_view, new_auditee, request, wait_status
from .harness import Consortium

pytestmark = [pytest.mark.anvil]

PASSPHRASE = "the auditee signer's passphrase"
WORDS = "本公司未聘请该会计师事务所执行本期审计,不同意发函"


def test_the_signer_refuses_with_words_the_firm_shows_them(consortium: Consortium, tmp_path: Path) -> None:
    auditee = new_auditee(consortium, 7303)
    (created,) = request(consortium, [compose(consortium, auditee)])
    letter_id = created["letter_id"]
    runner, bundle, keystore = CliRunner(), tmp_path / "bundle.json", tmp_path / "signer.json"
    firm_env = {
        "CONFIRMNET_GATEWAY": consortium.firm.url,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditor"],
    }
    asked = runner.invoke(
        app, ["auditor", "authorisation-request", letter_id, "-o", str(bundle)], env=firm_env
    )
    assert asked.exit_code == 0, asked.output
    keystore.write_text(
        json.dumps(Account.encrypt(auditee.signer.key, PASSPHRASE, kdf="scrypt", iterations=2**12))
    )
    signer_env = {
        "CONFIRMNET_SIGNER_PASSPHRASE": PASSPHRASE,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditee"],
    }
    refused = runner.invoke(
        app,
        [
            "authorise",
            "refuse",
            str(bundle),
            "--keystore",
            str(keystore),
            "--reason",
            "not_our_auditor",
            "--reason-text",
            WORDS,
            "--network",
            str(consortium.network_file),
            "--gateway",
            consortium.firm.url,
            "--yes",
        ],
        env=signer_env,
    )
    assert refused.exit_code == 0, refused.output
    assert "refuse of 1 letters accepted" in refused.output
    wait_status(consortium.firm, "auditor", letter_id, "REFUSED")
    view = letter_view(consortium.firm, "auditor", letter_id)
    assert view["refusal_text"] == WORDS
    assert view["reason"] == 1  # on chain: the code only
