"""Schemathesis against every kind of gateway (audit firm, bank with its bank adapter, regulator,
operator), in process over ASGI on the in-process chain, with each role's key and none.

Every operation of each gateway's OpenAPI schema gets requests that fit it and requests that do
not; no answer may be a server error, carry a status code the schema does not list for the
operation, or a body that does not match the schema of its status. Examples are bounded and
derandomised (the same requests each run): the admin key, let through everywhere, gets the most;
each other role and no key a few, for the answers before and after authorisation.

The firm and the bank share letters in every state first (on chain, indexed by both; their
documents never sent), and half the generated requests for a letter's path name one of them, so
the routes get past "no such letter".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
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

from .api_apps import KINDS, Gateway, gateway

if TYPE_CHECKING:
    from conftest import Chain

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ADMIN_EXAMPLES = 30  # per operation and generation mode
OTHER_EXAMPLES = 3  # per operation, mode and other role (or no key)


@pytest.fixture(scope="module")
def gateways(
    in_process: Chain, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[MemberRole, Gateway]]:
    deployment = in_process.deploy()
    base = tmp_path_factory.mktemp("fuzz")
    built = {kind: gateway(deployment, kind, base / kind.value) for kind in KINDS}
    yield built
    for item in built.values():
        item.node.db.dispose()


@pytest.fixture(scope="module")
def letter_ids(gateways: dict[MemberRole, Gateway]) -> list[str]:
    """Letters between the firm and the bank in every state, on chain and indexed by both."""
    deployment = gateways[MemberRole.AUDIT_FIRM].deployment
    letters = [deployment.letter_in(status) for status in LetterStatus if status is not LetterStatus.NONE]
    for kind in (MemberRole.AUDIT_FIRM, MemberRole.BANK):
        Indexer(gateways[kind].node).run_once()
    return ["0x" + letter.letter_id.hex() for letter in letters]


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


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=[kind.value for kind in KINDS])
def test_no_server_error_nor_undocumented_answer(
    gateways: dict[MemberRole, Gateway], letter_ids: list[str], kind: MemberRole
) -> None:
    item = gateways[kind]
    schema = schemathesis.openapi.from_asgi("/openapi.json", item.app)
    started = time.perf_counter()
    failures = _fuzz(schema, item.auth(ADMIN), ADMIN_EXAMPLES, letter_ids)
    for role in [None, *sorted(USER_ROLES[kind] - {ADMIN})]:
        found = _fuzz(schema, item.auth(role), OTHER_EXAMPLES, letter_ids)
        failures += [f"as {role or 'nobody'}: {failure}" for failure in found]
    print(f"{kind.value}: {time.perf_counter() - started:.1f} s")
    assert failures == [], "\n\n".join(failures)
