"""Schemathesis against one kind of gateway (audit firm, bank with its bank adapter, regulator,
operator), in process over ASGI on the in-process chain, with each role's key and none; one test
file per kind (test_api_fuzz_*.py), the firm's and the bank's admin apart from their other keys,
so that two workers share the work.

Every operation of the gateway's OpenAPI schema gets requests that fit it and requests that do
not; no answer may be a server error, carry a status code the schema does not list for the
operation, or a body that does not match the schema of its status. Examples are bounded and
derandomised (the same requests each run): the admin key, let through everywhere, gets the most;
each other role and no key a few, for the answers before and after authorisation.

Letters between the firm and the bank in every state are on chain first (indexed by the firm's or
the bank's gateway under test; their documents never sent), and half the generated requests for a
letter's path name one of them, so the routes get past "no such letter".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import ADMIN, USER_ROLES
from node_gateway.services.indexer import Indexer

from .api_apps import gateway

if TYPE_CHECKING:
    from conftest import Chain

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ADMIN_EXAMPLES = 30  # per operation and generation mode
OTHER_EXAMPLES = 3  # per operation, mode and other role (or no key)


def _naming(strategy: Any, letter_ids: list[str]) -> Any:
    """Half the cases of ``strategy`` name one of ``letter_ids`` in the path."""

    def name(drawn: tuple[Case[Any], str | None]) -> Case[Any]:
        case, letter_id = drawn
        if letter_id is not None:
            case.path_parameters = {**case.path_parameters, "letter_id": letter_id}
        return case

    return st.tuples(strategy, st.one_of(st.none(), st.sampled_from(letter_ids))).map(name)


def _fuzz(schema: Any, headers: dict[str, str], examples: int, letter_ids: list[str]) -> list[str]:
    """Runs every operation of ``schema`` with ``examples`` cases per mode; the failures found."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE and "{letter_id}" in operation.path:
                strategy = _naming(strategy, letter_ids)

            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Case[Any]) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # nothing in the operation to get wrong: no negative case
                assert mode is GenerationMode.NEGATIVE
            except Exception as exc:  # a check failed: keep it and go on with the others
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


def other_keys(kind: MemberRole) -> list[str | None]:
    """No key, then each role of a gateway of ``kind`` but the admin's."""
    return [None, *sorted(USER_ROLES[kind] - {ADMIN})]


def fuzz_the_gateway(kind: MemberRole, chain: Chain, base: Path, roles: list[str | None]) -> None:
    """Fuzzes the gateway of ``kind`` on a fresh deployment of ``chain`` (its data in ``base``)
    with the key of each of ``roles`` (``None``: no key); fails with every failure found."""
    deployment = chain.deploy()
    item = gateway(deployment, kind, base / kind.value)
    try:
        letters = [deployment.letter_in(status) for status in LetterStatus if status is not LetterStatus.NONE]
        letter_ids = ["0x" + letter.letter_id.hex() for letter in letters]
        if kind in (MemberRole.AUDIT_FIRM, MemberRole.BANK):
            Indexer(item.node).run_once()  # the letters between the firm and the bank, indexed
        schema = schemathesis.openapi.from_asgi("/openapi.json", item.app)
        started = time.perf_counter()
        failures = []
        for role in roles:
            examples = ADMIN_EXAMPLES if role == ADMIN else OTHER_EXAMPLES
            found = _fuzz(schema, item.auth(role), examples, letter_ids)
            failures += [f"as {role or 'nobody'}: {failure}" for failure in found]
        print(f"{kind.value}: {time.perf_counter() - started:.1f} s")
    finally:
        item.node.db.dispose()
    assert failures == [], "\n\n".join(failures)
