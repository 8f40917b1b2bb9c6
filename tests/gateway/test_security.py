"""Users of the gateway's user API, on SQLite and on PostgreSQL: an API key authenticates its
user until revoked, only its hash is stored, and roles stay within the member's vocabulary."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from node_gateway.core.config import MemberRole
from node_gateway.core.security import ADMIN, USER_ROLES, User, authenticate, create_user, revoke_user
from node_gateway.errors import InvalidRequest, NotAuthenticated
from node_gateway.storage.db import Database
from node_gateway.storage.models import UserRow


def add_user(database: Database, name: str, roles: set[str], member: MemberRole = MemberRole.BANK) -> str:
    with database.session() as session:
        return create_user(session, member, name, roles)


def login(database: Database, api_key: str | None) -> User:
    with database.session() as session:
        return authenticate(session, api_key)


def test_a_new_key_authenticates_its_user(database: Database) -> None:
    key = add_user(database, "陈晓明", {"preparer"})
    add_user(database, "刘建国", {"reviewer", "officer"})
    user = login(database, key)
    assert (user.name, user.roles) == ("陈晓明", frozenset({"preparer"}))
    assert user.has("preparer")
    assert not user.has("reviewer")


def test_only_a_hash_of_the_key_is_stored(database: Database) -> None:
    key = add_user(database, "auditor", {"auditor"}, MemberRole.AUDIT_FIRM)
    prefix, key_id, secret = key.split("_", 2)
    assert prefix == "cn"
    assert len(secret) >= 43  # 256 random bits
    with database.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM users")).mappings().one()
    assert row["key_id"] == key_id
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(value) for value in row.values())
    assert secret not in stored
    assert key not in stored


def test_each_user_gets_a_different_key(database: Database) -> None:
    keys = [add_user(database, f"analyst {n}", {"analyst"}, MemberRole.REGULATOR) for n in range(3)]
    assert len({key.split("_")[1] for key in keys}) == 3
    assert [login(database, key).name for key in keys] == ["analyst 0", "analyst 1", "analyst 2"]


def test_a_wrong_or_malformed_key_is_refused(database: Database) -> None:
    key = add_user(database, "officer", {"officer"})
    _, key_id, secret = key.split("_", 2)
    wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    refused = {
        "wrong secret": f"cn_{key_id}_{wrong_secret}",
        "unknown key id": f"cn_{'0' * len(key_id)}_{secret}",
        "empty secret": f"cn_{key_id}_",
        "no secret": f"cn_{key_id}",
        "wrong prefix": f"xx_{key_id}_{secret}",
        "no separators": f"cn{key_id}{secret}",
        "the hash instead of the secret": f"cn_{key_id}_{hashlib.sha256(secret.encode()).hexdigest()}",
        "empty": "",
        "none": None,
    }
    accepted = []
    for case, candidate in refused.items():
        try:
            login(database, candidate)
        except NotAuthenticated:
            continue
        accepted.append(case)
    assert accepted == []
    assert login(database, key).name == "officer"


def test_a_revoked_key_is_refused(database: Database) -> None:
    key = add_user(database, "leaver", {"reviewer"})
    other = add_user(database, "stayer", {"reviewer"})
    with database.session() as session:
        revoke_user(session, "leaver")
    with pytest.raises(NotAuthenticated, match="revoked"):
        login(database, key)
    assert login(database, other).name == "stayer"


def test_revoking_an_unknown_user_is_refused(database: Database) -> None:
    with pytest.raises(InvalidRequest), database.session() as session:
        revoke_user(session, "nobody")


def test_roles_outside_the_members_vocabulary_are_refused(database: Database) -> None:
    refused: list[tuple[MemberRole, set[str]]] = [
        (MemberRole.AUDIT_FIRM, {"preparer"}),  # a bank's role at an audit firm
        (MemberRole.BANK, {"auditor"}),
        (MemberRole.BANK, {"officer", "superuser"}),
        (MemberRole.REGULATOR, {"operator"}),
        (MemberRole.OPERATOR, set()),
    ]
    for member, roles in refused:
        with pytest.raises(InvalidRequest, match="roles must be among"):
            add_user(database, "someone", roles, member)
    with database.session() as session:
        assert session.scalars(select(UserRow)).all() == []


def test_user_names_are_unique(database: Database) -> None:
    add_user(database, "陈晓明", {"preparer"})
    with pytest.raises(InvalidRequest, match="exists"):
        add_user(database, "陈晓明", {"reviewer"})


@pytest.mark.parametrize("member", list(MemberRole))
def test_every_member_has_an_admin_role(member: MemberRole) -> None:
    assert ADMIN in USER_ROLES[member]
    assert len(USER_ROLES[member]) >= 2


def test_an_admin_holds_every_role() -> None:
    admin = User(id=1, name="admin", roles=frozenset({ADMIN}))
    reviewer = User(id=2, name="reviewer", roles=frozenset({"reviewer"}))
    for role in USER_ROLES[MemberRole.BANK]:
        assert admin.has(role)
    assert reviewer.has("reviewer")
    assert not reviewer.has("preparer")
    assert not reviewer.has(ADMIN)
