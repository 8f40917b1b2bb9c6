"""``confirmnet authorise …``: the auditee's signer reviews a bundle, then signs it or refuses."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from auditor_client.authorise import (
    AuthoriseError,
    Kind,
    Review,
    create_keystore,
    load_bundle,
    open_keystore,
    read_passphrase,
    refusal_words,
    review_bundle,
    sign_review,
)
from auditor_client.cli._common import (
    EXIT_FAILED,
    EXIT_INPUT,
    client,
    console,
    fail,
    gateway_errors,
)
from auditor_client.sdk import SignedAuthorisation
from node_gateway.chain.network import NetworkFile
from node_gateway.protocol import CHINA_TIME, ITEM_TITLES, RefusalReason, normalise_registration_code

authorise_app = typer.Typer(
    help="The auditee's signer: see exactly what a bundle covers, then sign it (one signature for "
    "all its letters) or refuse with a reason.",
    no_args_is_help=True,
)

REASONS = {reason.name.lower(): reason for reason in RefusalReason}

BundleArg = Annotated[Path, typer.Argument(help="The bundle the audit firm sent (JSON).")]
CodeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--auditee-code",
        help="Your company's registration code (统一社会信用代码; repeatable): checks each letter names it.",
    ),
]
NetworkOption = Annotated[
    Path | None,
    typer.Option("--network", help="The network file: pins the chain and contract of the signature."),
]
KeystoreOption = Annotated[Path, typer.Option(help="Your signer's keystore (Ethereum keystore v3).")]
PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        help="File holding the keystore passphrase (else CONFIRMNET_SIGNER_PASSPHRASE(_FILE), else asked)."
    ),
]
GatewayOpt = Annotated[
    str | None,
    typer.Option("--gateway", envvar="CONFIRMNET_GATEWAY", help="Send the result to this gateway."),
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option("--api-key", envvar="CONFIRMNET_API_KEY", help="Your auditee API key.", show_default=False),
]
OutputOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="Write the signed result here instead.")
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation after the review.")]
ReasonTextOpt = Annotated[
    str | None,
    typer.Option(
        "--reason-text",
        help="A refusal's reason in words (1-500 characters), kept by the audit firm with each letter, "
        "never on chain.",
    ),
]


def _review(bundle_path: Path, codes: list[str] | None, network: Path | None) -> Review:
    try:
        pinned = NetworkFile.load(network) if network else None
        auditee_codes = [normalise_registration_code(code) for code in codes or []]
        return review_bundle(load_bundle(bundle_path), auditee_codes=auditee_codes, network=pinned)
    except (AuthoriseError, OSError, ValueError) as exc:
        fail(str(exc), EXIT_INPUT)


def _items(review: Review, index: int) -> str:
    letter = review.letters[index].letter
    if letter is None:
        return "?"
    listed, not_applicable, blank = [], 0, 0
    for key, item in letter.items.by_key():
        if item.entries:
            listed.append(f"{ITEM_TITLES[key]}×{len(item.entries)}")
        elif item.not_applicable:
            not_applicable += 1
        else:
            blank += 1
    extra = [f"{not_applicable} 项不适用"] if not_applicable else []
    extra += [f"{blank} 项由银行填列"] if blank else []
    return "、".join(listed + extra)


def show_review(review: Review) -> None:
    """Prints exactly what a signature would cover, and every check."""
    until = datetime.fromtimestamp(review.valid_until, CHINA_TIME).strftime("%Y-%m-%d %H:%M +08:00")
    header = Table(
        show_header=False, title=f"{review.primary_type}: {len(review.letters)} letters, one signature"
    )
    header.add_row("audit firm", f"member {review.firm}")
    header.add_row("valid until", until)
    header.add_row("chain / contract", f"{review.chain_id} / {review.registry}")
    header.add_row("requests root", review.requests_root)
    header.add_row("nonce", str(review.nonce))
    console.print(header)
    table = Table(title="letters covered")
    for column in ("#", "letter id", "auditee", "bank", "reference date", "format", "items", "check"):
        table.add_column(column)
    verdicts = {f.letter_id: f for f in review.findings if f.letter_id and not f.ok}
    for index, covered in enumerate(review.letters):
        letter = covered.letter
        failed = verdicts.get(covered.letter_id)
        table.add_row(
            str(index + 1),
            covered.letter_id[:12] + "…",
            f"{letter.auditee.name}\n{letter.auditee.registration_code}" if letter else "?",
            f"{letter.bank.name} {letter.bank.branch or ''}\n(member {covered.bank})"
            if letter
            else str(covered.bank),
            str(letter.reference_date) if letter else "?",
            letter.format.value if letter else "?",
            _items(review, index),
            "[red]" + failed.detail if failed else "[green]ok",
        )
    console.print(table)
    for finding in review.findings:
        if finding.letter_id is None or not finding.ok:
            mark = "[green]✓" if finding.ok else "[red]✗"
            console.print(f"{mark} {finding.name}: {finding.detail}")


def _deliver(
    signed: SignedAuthorisation, gateway: str | None, api_key: str | None, output: Path | None
) -> None:
    if output is not None:
        output.write_text(signed.model_dump_json(indent=2) + "\n", encoding="utf-8")
        console.print(f"signed result written to {output}; send it with `confirmnet authorise submit`")
    if gateway is not None:
        if not api_key:
            fail("--api-key is needed to send to the gateway", EXIT_INPUT)
        with gateway_errors(), client(gateway, api_key) as api:
            accepted = api.submit_authorisation(signed)
        console.print(
            f"[green]{accepted.kind} of {accepted.letters} letters accepted by the gateway (signer {accepted.signer})"
        )
    if output is None and gateway is None:
        fail("give --gateway (with --api-key) or --output", EXIT_INPUT)


def _sign(
    kind: Kind,
    reason: int | None,
    reason_text: str | None,
    bundle: Path,
    keystore: Path,
    passphrase_file: Path | None,
    codes: list[str] | None,
    network: Path | None,
    gateway: str | None,
    api_key: str | None,
    output: Path | None,
    yes: bool,
) -> None:
    review = _review(bundle, codes, network)
    show_review(review)
    if not review.ok:
        fail(f"refusing to sign: {len(review.failures)} check(s) failed", EXIT_FAILED)
    verb = "authorise" if kind == "authorise" else "refuse"
    if reason_text is not None:
        console.print(f"reason in words, for the audit firm (not on chain): {reason_text}")
    if not yes and not typer.confirm(f"{verb} these {len(review.letters)} letters with one signature?"):
        fail("nothing signed", EXIT_FAILED)
    try:
        passphrase = read_passphrase(passphrase_file)
        if passphrase is None:
            passphrase = typer.prompt("keystore passphrase", hide_input=True)
        account = open_keystore(keystore, passphrase)
        signed = sign_review(review, account, kind=kind, reason=reason, reason_text=reason_text)
    except AuthoriseError as exc:
        fail(str(exc), EXIT_FAILED)
    console.print(f"signed by {account.address}")
    _deliver(signed, gateway, api_key, output)


@authorise_app.command("new-key")
def new_key(keystore: KeystoreOption, passphrase_file: PassphraseFile = None) -> None:
    """Create your signer key in an encrypted keystore; give the address to your bank for the mandate."""
    try:
        passphrase = read_passphrase(passphrase_file) or typer.prompt(
            "new keystore passphrase", hide_input=True, confirmation_prompt=True
        )
        account = create_keystore(keystore, passphrase)
    except AuthoriseError as exc:
        fail(str(exc), EXIT_INPUT)
    console.print(f"signer address: [bold]{account.address}[/bold] (keystore {keystore})")


@authorise_app.command("show")
def show(bundle: BundleArg, auditee_code: CodeOption = None, network: NetworkOption = None) -> None:
    """Review a bundle: what it covers, every hash and the Merkle root recomputed; signs nothing."""
    review = _review(bundle, auditee_code, network)
    show_review(review)
    if not review.ok:
        raise typer.Exit(EXIT_FAILED)


@authorise_app.command("sign")
def sign(
    bundle: BundleArg,
    keystore: KeystoreOption,
    passphrase_file: PassphraseFile = None,
    auditee_code: CodeOption = None,
    network: NetworkOption = None,
    gateway: GatewayOpt = None,
    api_key: ApiKeyOpt = None,
    output: OutputOpt = None,
    yes: YesOpt = False,
    reason_text: ReasonTextOpt = None,
) -> None:
    """Authorise every letter of a bundle with one signature, after reviewing it."""
    if reason_text is not None:
        fail(
            "--reason-text gives a refusal's reason in words; an authorisation has none "
            "(to refuse: `confirmnet authorise refuse --reason … --reason-text …`)",
            EXIT_INPUT,
        )
    _sign(
        "authorise",
        None,
        None,
        bundle,
        keystore,
        passphrase_file,
        auditee_code,
        network,
        gateway,
        api_key,
        output,
        yes,
    )


@authorise_app.command("refuse")
def refuse(
    bundle: BundleArg,
    keystore: KeystoreOption,
    reason: Annotated[str, typer.Option(help=f"Why: {', '.join(REASONS)}.")],
    passphrase_file: PassphraseFile = None,
    auditee_code: CodeOption = None,
    network: NetworkOption = None,
    gateway: GatewayOpt = None,
    api_key: ApiKeyOpt = None,
    output: OutputOpt = None,
    yes: YesOpt = False,
    reason_text: ReasonTextOpt = None,
) -> None:
    """Refuse to authorise the letters of a bundle, with a reason recorded on chain and, if given,
    the reason in words for the audit firm (ISA 505 ¶8; off chain)."""
    code = REASONS.get(reason.lower())
    if code is None:
        fail(f"the reason is one of {', '.join(REASONS)}", EXIT_INPUT)
    try:
        words = refusal_words(reason_text)
    except AuthoriseError as exc:
        fail(str(exc), EXIT_INPUT)
    _sign(
        "refuse",
        int(code),
        words,
        bundle,
        keystore,
        passphrase_file,
        auditee_code,
        network,
        gateway,
        api_key,
        output,
        yes,
    )


@authorise_app.command("submit")
def submit(
    signed_file: Annotated[Path, typer.Argument(help="A signed result written by sign/refuse --output.")],
    gateway: Annotated[
        str, typer.Option("--gateway", envvar="CONFIRMNET_GATEWAY", help="The audit firm's gateway.")
    ],
    api_key: Annotated[str, typer.Option("--api-key", envvar="CONFIRMNET_API_KEY", show_default=False)],
) -> None:
    """Send a signed authorisation or refusal to the audit firm's gateway."""
    try:
        signed = SignedAuthorisation.model_validate(json.loads(signed_file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        fail(f"{signed_file}: {exc}", EXIT_INPUT)
    _deliver(signed, gateway, api_key, None)
