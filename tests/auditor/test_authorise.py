"""The auditee's signing tool: it recomputes everything a bundle claims and signs only what holds."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from auditor_client.authorise import (
    AuthoriseError,
    create_keystore,
    open_keystore,
    review_bundle,
    sign_review,
)
from confirmnet.cli import app
from node_gateway.api.models import AuthorisationBundle
from node_gateway.chain.authorisation import LetterLeaf, RequestsTree, authorisation_typed_data
from node_gateway.chain.contracts import Authorisation
from node_gateway.chain.network import NetworkFile
from node_gateway.protocol.documents import Auditee, AuditFirm, Bank, uscc
from node_gateway.protocol.hashing import canonical_bytes, document_hash, new_salt, to_hex
from node_gateway.protocol.samples import sample_letter

CHAIN_ID, REGISTRY = 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CODE = uscc("91310115MA1H7Q3K2")
OTHER_CODE = uscc("91310000MA1G00007")


def make_bundle(count: int = 3, codes: tuple[str, ...] = (CODE,)) -> dict[str, Any]:
    """A bundle as the firm's gateway builds it (``POST /v1/authorisations/requests``): no auditee
    reference in it, the letters' auditees by turns ``codes``."""
    letters, leaves = [], []
    for index in range(count):
        letter = sample_letter(
            audit_firm=AuditFirm(member_no=2, name="明鉴"),
            bank=Bank(member_no=3, name="东海银行"),
            auditee=Auditee(name="江南精密", registration_code=codes[index % len(codes)]),
        )
        salt = new_salt()
        letter_hash = document_hash(letter, salt)
        letters.append(
            {
                "letter_id": letter.letter_id,
                "bank": 3,
                "letter_hash": to_hex(letter_hash),
                "document": json.loads(canonical_bytes(letter)),
                "salt": to_hex(salt),
            }
        )
        leaves.append(LetterLeaf(bytes.fromhex(letter.letter_id[2:]), letter_hash, 3))
    auth = Authorisation(RequestsTree(leaves).root, 2, int(time.time()) + 30 * 86400, 12345)
    typed = authorisation_typed_data(auth, chain_id=CHAIN_ID, registry=REGISTRY)
    typed["message"]["requestsRoot"] = to_hex(typed["message"]["requestsRoot"])
    # Through JSON, as it travels: nothing shared with the protocol's own type lists.
    bundle: dict[str, Any] = json.loads(json.dumps({"typed_data": typed, "letters": letters}))
    return bundle


def review(bundle: dict[str, Any], **kwargs: Any) -> Any:
    return review_bundle(AuthorisationBundle.model_validate(bundle), **kwargs)


def failing(bundle: dict[str, Any], **kwargs: Any) -> set[str]:
    return {f.name for f in review(bundle, **kwargs).failures}


def test_a_sound_bundle_passes_and_is_signed_over_the_rebuilt_document() -> None:
    bundle = make_bundle()
    result = review(bundle, auditee_codes=[CODE])
    assert result.ok, result.failures
    assert {f.name for f in result.findings} >= {"document", "network", "expiry", "letter", "auditee", "root"}
    signer: LocalAccount = Account.create()
    signed = sign_review(result, signer, kind="authorise")
    assert signed.letter_ids == [x["letter_id"] for x in bundle["letters"]]
    assert signed.reason is None
    typed = copy.deepcopy(bundle["typed_data"])
    typed["message"]["requestsRoot"] = bytes.fromhex(typed["message"]["requestsRoot"][2:])
    recovered = Account.recover_message(
        encode_typed_data(full_message=typed), signature=bytes.fromhex(signed.signature[2:])
    )
    assert recovered == signer.address


def test_a_refusal_signs_the_same_letters_with_a_reason() -> None:
    result = review(make_bundle(1))
    signed = sign_review(result, Account.create(), kind="refuse", reason=2)
    assert (signed.reason, signed.requests_root) == (2, result.requests_root)
    with pytest.raises(AuthoriseError, match="reason"):
        sign_review(result, Account.create(), kind="refuse")


def test_a_refusal_gives_its_reason_in_words_an_authorisation_none() -> None:
    result, signer = review(make_bundle(1)), Account.create()
    words = "  本公司已更换审计机构  "
    signed = sign_review(result, signer, kind="refuse", reason=1, reason_text=words)
    assert (signed.reason, signed.reason_text) == (1, words.strip())
    # The words are sent beside the signature, not signed: the same refusal without them.
    assert signed.signature == sign_review(result, signer, kind="refuse", reason=1).signature
    with pytest.raises(AuthoriseError, match="an authorisation has none"):
        sign_review(result, signer, kind="authorise", reason_text=words)
    for blank_or_long in ("   ", "字" * 501):
        with pytest.raises(AuthoriseError, match="1 to 500 characters"):
            sign_review(result, signer, kind="refuse", reason=1, reason_text=blank_or_long)


def tamper_document(bundle: dict[str, Any]) -> None:
    bundle["letters"][1]["document"]["items"]["loans"]["entries"][0]["principal"] = "1.00"


def tamper_hash(bundle: dict[str, Any]) -> None:
    bundle["letters"][0]["letter_hash"] = "0x" + "00" * 32


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (tamper_document, {"letter"}),
        (lambda b: b["letters"][0].update(salt="0x" + "11" * 32), {"letter"}),
        (tamper_hash, {"letter", "root"}),
        (lambda b: b["letters"][2].update(bank=4), {"letter", "root"}),
        (lambda b: b["letters"].pop(), {"root"}),
        (lambda b: b["letters"].reverse(), {"root"}),
        (lambda b: b["typed_data"]["message"].update(firm=9), {"letter"}),
        (
            lambda b: b["typed_data"]["types"]["Authorisation"].append({"name": "x", "type": "uint8"}),
            {"document"},
        ),
        (lambda b: b["typed_data"].update(primaryType="Transfer"), {"document"}),
        (lambda b: b["typed_data"]["message"].update(validUntil=int(time.time()) - 1), {"expiry"}),
        (lambda b: b["typed_data"]["message"].update(validUntil=int(time.time()) + 400 * 86400), {"expiry"}),
        (lambda b: b["letters"][0].update(document={"schema": "confirmnet.letter"}), {"letter", "root"}),
    ],
)
def test_a_tampered_bundle_is_refused(change: Any, expected: set[str]) -> None:
    bundle = make_bundle()
    change(bundle)
    result = review(bundle, auditee_codes=[CODE])
    assert not result.ok
    assert expected <= {f.name for f in result.failures}, result.failures
    with pytest.raises(AuthoriseError, match="refusing to sign"):
        sign_review(result, Account.create(), kind="authorise")


def test_a_letter_about_another_company_is_not_signed_for_this_one() -> None:
    """Given the signer's registration codes, a letter whose document names another auditee fails
    the review (its hashes and root hold): the bank would reject it on arrival in any case."""
    bundle = make_bundle(2, codes=(CODE, OTHER_CODE))
    result = review(bundle, auditee_codes=[CODE])
    assert {(f.name, f.letter_id) for f in result.failures} == {
        ("auditee", bundle["letters"][1]["letter_id"])
    }
    assert OTHER_CODE in result.failures[0].detail
    assert review(bundle, auditee_codes=[CODE, OTHER_CODE]).ok  # a group's signer, both its companies
    assert review(bundle).ok  # without codes the review checks no auditee


def test_the_network_file_pins_chain_and_contract() -> None:
    pinned = NetworkFile(
        chain_id=CHAIN_ID,
        rpc_url="http://x",
        member_registry="0x" + "11" * 20,
        confirmation_registry=REGISTRY,
        deployment_block=1,
    )
    assert not failing(make_bundle(), network=pinned)
    assert failing(make_bundle(), network=pinned.model_copy(update={"chain_id": 1})) == {"network"}


def test_the_keystore_opens_only_with_its_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "signer.json"
    account = create_keystore(path, "a long passphrase")
    assert open_keystore(path, "a long passphrase").address == account.address
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(AuthoriseError, match="does not open"):
        open_keystore(path, "wrong")
    with pytest.raises(AuthoriseError, match="never overwritten"):
        create_keystore(path, "a long passphrase")


def test_the_cli_shows_signs_to_a_file_and_refuses_a_tampered_bundle(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CONFIRMNET_SIGNER_PASSPHRASE": "a long passphrase"}
    keystore = tmp_path / "signer.json"
    assert runner.invoke(app, ["authorise", "new-key", "--keystore", str(keystore)], env=env).exit_code == 0
    bundle_path, signed_path = tmp_path / "bundle.json", tmp_path / "signed.json"
    bundle_path.write_text(json.dumps(make_bundle()))
    shown = runner.invoke(app, ["authorise", "show", str(bundle_path), "--auditee-code", CODE.lower()])
    assert shown.exit_code == 0, shown.output
    assert "3 letters, one signature" in shown.output
    not_ours = runner.invoke(app, ["authorise", "show", str(bundle_path), "--auditee-code", OTHER_CODE])
    assert not_ours.exit_code == 1
    assert "not your company" in not_ours.output
    garbage = runner.invoke(app, ["authorise", "show", str(bundle_path), "--auditee-code", "x"])
    assert garbage.exit_code == 2
    assert "registration code" in garbage.output
    signed = runner.invoke(
        app,
        ["authorise", "sign", str(bundle_path), "--keystore", str(keystore), "--yes", "-o", str(signed_path)],
        env=env,
    )
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed_path.read_text())["signature"].startswith("0x")
    refused = runner.invoke(
        app,
        [
            "authorise",
            "refuse",
            str(bundle_path),
            "--keystore",
            str(keystore),
            "--reason",
            "wrong_content",
            "--yes",
            "-o",
            str(tmp_path / "refusal.json"),
        ],
        env=env,
    )
    assert refused.exit_code == 0, refused.output
    assert json.loads((tmp_path / "refusal.json").read_text())["reason"] == 2
    assert json.loads((tmp_path / "refusal.json").read_text())["reason_text"] is None
    tampered = make_bundle()
    tamper_document(tampered)
    bundle_path.write_text(json.dumps(tampered))
    result = runner.invoke(
        app,
        [
            "authorise",
            "sign",
            str(bundle_path),
            "--keystore",
            str(keystore),
            "--yes",
            "-o",
            str(tmp_path / "no.json"),
        ],
        env=env,
    )
    assert result.exit_code == 1
    assert "refusing to sign" in result.output
    assert not (tmp_path / "no.json").exists()


def test_the_cli_refuses_with_words_and_takes_none_with_an_authorisation(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CONFIRMNET_SIGNER_PASSPHRASE": "a long passphrase"}
    keystore, bundle_path = tmp_path / "signer.json", tmp_path / "bundle.json"
    assert runner.invoke(app, ["authorise", "new-key", "--keystore", str(keystore)], env=env).exit_code == 0
    bundle_path.write_text(json.dumps(make_bundle(1)))
    common = [str(bundle_path), "--keystore", str(keystore), "--yes"]
    words = "未委托该会计师事务所执行本期审计"
    refusal = tmp_path / "refusal.json"
    refused = runner.invoke(
        app,
        [
            "authorise",
            "refuse",
            *common,
            "--reason",
            "not_our_auditor",
            "--reason-text",
            words,
            "-o",
            str(refusal),
        ],
        env=env,
    )
    assert refused.exit_code == 0, refused.output
    assert (json.loads(refusal.read_text())["reason_text"], json.loads(refusal.read_text())["reason"]) == (
        words,
        1,
    )
    # With an authorisation the words are a usage error, before anything is signed.
    signed = runner.invoke(
        app, ["authorise", "sign", *common, "--reason-text", words, "-o", str(tmp_path / "no.json")], env=env
    )
    assert signed.exit_code == 2
    assert "an authorisation has none" in signed.output
    assert not (tmp_path / "no.json").exists()
    too_long = runner.invoke(
        app,
        [
            "authorise",
            "refuse",
            *common,
            "--reason",
            "other",
            "--reason-text",
            "字" * 501,
            "-o",
            str(tmp_path / "x"),
        ],
        env=env,
    )
    assert too_long.exit_code == 2
    assert "1 to 500 characters" in too_long.output
