"""A member's keys encrypted at rest, and the gateway's configuration: a passphrase only from the
environment or a file, never a default one, never written to the configuration file."""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import init_bank_gateway
from typer.testing import CliRunner

from confirmnet.cli import app
from node_gateway.chain.network import NetworkFile
from node_gateway.core.config import ConfigError, GatewaySettings, MemberRole, write_config
from node_gateway.core.keys import (
    CHAIN_KEYSTORE,
    SECRETS_KEYSTORE,
    KeystoreError,
    MemberKeys,
    change_passphrase,
    create_keys,
    load_keys,
    rotate_encryption_keys,
)
from node_gateway.node import Node
from node_gateway.protocol.envelopes import EncryptionKeyPair, Envelope, EnvelopeSuite, open_envelope, seal
from node_gateway.protocol.errors import EnvelopeTampered

PASSPHRASE = "a long and unguessable passphrase"
SUITES = (EnvelopeSuite.X25519,)


@pytest.fixture(autouse=True)
def no_confirmnet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests set the CONFIRMNET_* variables they need; none leaks in from outside."""
    for name in list(os.environ):
        if name.upper().startswith("CONFIRMNET_"):
            monkeypatch.delenv(name)


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    directory: Path
    keys: MemberKeys


def _create(tmp_path_factory: pytest.TempPathFactory, suites: tuple[EnvelopeSuite, ...]) -> Created:
    directory = tmp_path_factory.mktemp("keys") / "keys"
    return Created(directory, create_keys(directory, PASSPHRASE, suites))


# Keys are made once per module: scrypt makes each creation and each opening take about a second.
@pytest.fixture(scope="module")
def default_keys(tmp_path_factory: pytest.TempPathFactory) -> Created:
    """Keys for the default suite only."""
    return _create(tmp_path_factory, (EnvelopeSuite.X25519,))


@pytest.fixture(scope="module")
def hybrid_keys(tmp_path_factory: pytest.TempPathFactory) -> Created:
    """Keys for both suites, the post-quantum hybrid preferred."""
    return _create(tmp_path_factory, (EnvelopeSuite.MLKEM768_X25519, EnvelopeSuite.X25519))


@pytest.fixture(params=["default_keys", "hybrid_keys"])
def created(request: pytest.FixtureRequest) -> Created:
    keys: Created = request.getfixturevalue(request.param)
    return keys


def test_keys_open_with_their_passphrase(created: Created) -> None:
    loaded = load_keys(created.directory, PASSPHRASE)
    assert loaded.chain_account.address == created.keys.chain_account.address
    assert loaded.chain_account.key == created.keys.chain_account.key
    assert [(pair.suite, pair.private_bytes(), pair.public_key) for pair in loaded.encryption_keys] == [
        (pair.suite, pair.private_bytes(), pair.public_key) for pair in created.keys.encryption_keys
    ]
    assert loaded.storage_key == created.keys.storage_key
    assert len(loaded.storage_key) == 32


def test_keys_hold_the_suites_in_order(default_keys: Created, hybrid_keys: Created) -> None:
    assert [pair.suite for pair in default_keys.keys.encryption_keys] == [EnvelopeSuite.X25519]
    assert [pair.suite for pair in hybrid_keys.keys.encryption_keys] == [
        EnvelopeSuite.MLKEM768_X25519,
        EnvelopeSuite.X25519,
    ]


def test_keys_do_not_open_with_another_passphrase(default_keys: Created) -> None:
    with pytest.raises(KeystoreError, match="passphrase"):
        load_keys(default_keys.directory, PASSPHRASE + "!")


def test_keystore_files_are_private_and_hold_no_key_in_clear(created: Created) -> None:
    keys = created.keys
    secrets_in_clear = [
        bytes(keys.chain_account.key),
        keys.storage_key,
        *(pair.private_bytes() for pair in keys.encryption_keys),
    ]
    spellings: list[bytes] = [PASSPHRASE.encode()]
    for secret in secrets_in_clear:
        spellings += [
            secret,
            secret.hex().encode(),
            secret.hex().upper().encode(),
            base64.b64encode(secret),
            base64.urlsafe_b64encode(secret),
        ]
    for name in (CHAIN_KEYSTORE, SECRETS_KEYSTORE):
        path = created.directory / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        content = path.read_bytes()
        for spelling in spellings:
            assert spelling not in content, f"{name} holds a key in clear"


def test_existing_keys_are_never_overwritten(created: Created) -> None:
    before = {name: (created.directory / name).read_bytes() for name in (CHAIN_KEYSTORE, SECRETS_KEYSTORE)}
    with pytest.raises(KeystoreError, match="already exist"):
        create_keys(created.directory, PASSPHRASE, SUITES)
    assert {name: (created.directory / name).read_bytes() for name in before} == before


@pytest.mark.parametrize("present", [CHAIN_KEYSTORE, SECRETS_KEYSTORE])
def test_half_a_keystore_is_not_overwritten_either(tmp_path: Path, present: str) -> None:
    (tmp_path / present).write_text("{}")
    with pytest.raises(KeystoreError, match="already exist"):
        create_keys(tmp_path, PASSPHRASE, SUITES)
    assert (tmp_path / present).read_text() == "{}"


def test_missing_keystores_are_reported(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="no keystore"):
        load_keys(tmp_path, PASSPHRASE)


# --- configuration ------------------------------------------------------------------------------


def settings(tmp_path: Path, **values: Any) -> GatewaySettings:
    fields: dict[str, Any] = {
        "role": MemberRole.BANK,
        "display_name": "东海银行",
        "registration_code": "91310000MA1FL0000X",
        "data_dir": tmp_path / "data",
        "network_file": tmp_path / "network.json",
    }
    return GatewaySettings(**(fields | values))


@pytest.mark.parametrize(
    "passphrase",
    [
        "",
        "changeme",
        "ChangeMe",
        "change-me",
        "password",
        "PASSWORD",
        "passphrase",
        "secret",
        "confirmnet",
        "s3cr3t-pass",
    ],  # the last one is one character short
)
def test_a_default_or_short_passphrase_is_refused(tmp_path: Path, passphrase: str) -> None:
    with pytest.raises(ConfigError, match="default or short"):
        settings(tmp_path, passphrase=passphrase).read_passphrase()


def test_a_missing_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no passphrase"):
        settings(tmp_path).read_passphrase()


def test_the_passphrase_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", PASSPHRASE)
    assert settings(tmp_path).read_passphrase() == PASSPHRASE


def test_a_default_passphrase_in_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", "changeme")
    with pytest.raises(ConfigError):
        settings(tmp_path).read_passphrase()


def test_the_passphrase_comes_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "passphrase"
    secret_file.write_text(PASSPHRASE + "\n")
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE_FILE", str(secret_file))
    assert settings(tmp_path).read_passphrase() == PASSPHRASE


def test_a_default_passphrase_in_a_file_is_refused(tmp_path: Path) -> None:
    secret_file = tmp_path / "passphrase"
    secret_file.write_text("password\n")
    with pytest.raises(ConfigError, match="default or short"):
        settings(tmp_path, passphrase_file=secret_file).read_passphrase()


def test_a_missing_passphrase_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        settings(tmp_path, passphrase_file=tmp_path / "nowhere").read_passphrase()


def test_the_configuration_file_never_holds_the_passphrase(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    original = settings(tmp_path, passphrase=PASSPHRASE, public_url="https://bank.example", port=8711)
    write_config(config, original)
    assert PASSPHRASE not in config.read_text(encoding="utf-8")
    loaded = GatewaySettings.from_file(config)
    assert loaded.passphrase is None
    assert loaded.model_dump(exclude={"passphrase"}) == original.model_dump(exclude={"passphrase"})


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.toml"
    write_config(path, settings(tmp_path, port=8711, envelope_suite=EnvelopeSuite.MLKEM768_X25519))
    return path


def test_the_environment_overrides_the_configuration_file(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIRMNET_PORT", "9100")
    monkeypatch.setenv("CONFIRMNET_DATABASE_URL", "postgresql+psycopg://gateway@db.internal/bank")
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", PASSPHRASE)
    loaded = GatewaySettings.from_file(config_file)
    assert loaded.port == 9100
    assert loaded.effective_database_url == "postgresql+psycopg://gateway@db.internal/bank"
    assert loaded.display_name == "东海银行"  # from the file
    assert loaded.envelope_suite is EnvelopeSuite.MLKEM768_X25519
    assert loaded.read_passphrase() == PASSPHRASE


def test_without_the_environment_the_file_decides(config_file: Path, tmp_path: Path) -> None:
    loaded = GatewaySettings.from_file(config_file)
    assert loaded.port == 8711
    assert loaded.role is MemberRole.BANK
    assert loaded.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'gateway.db'}"
    with pytest.raises(ConfigError, match="no passphrase"):
        loaded.read_passphrase()


def test_a_missing_configuration_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no configuration file"):
        GatewaySettings.from_file(tmp_path / "gateway.toml")


@pytest.mark.parametrize(
    ("own", "used"), [(None, "http://shared:8545"), ("http://own:8545", "http://own:8545")]
)
def test_a_gateway_reaches_the_chain_through_its_own_rpc_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: str | None, used: str
) -> None:
    # Each member runs its own node: the one network file names a shared URL, a gateway its own.
    NetworkFile(
        chain_id=1,
        rpc_url="http://shared:8545",
        member_registry="0x" + "11" * 20,
        confirmation_registry="0x" + "22" * 20,
        deployment_block=0,
    ).save(tmp_path / "network.json")
    if own is not None:
        monkeypatch.setenv("CONFIRMNET_RPC_URL", own)
    connected: list[str] = []

    class Connected(Exception):
        pass

    def connect(url: str) -> None:
        connected.append(url)
        raise Connected

    monkeypatch.setattr("node_gateway.node.connect", connect)
    configured = GatewaySettings(
        role=MemberRole.BANK,
        display_name="东海银行",
        registration_code="91310000MA1FL0000X",
        data_dir=tmp_path / "data",
        network_file=tmp_path / "network.json",
    )
    with pytest.raises(Connected):
        Node.open(configured, create_keys(tmp_path / "keys", PASSPHRASE, SUITES))
    assert connected == [used]


# --- changing the passphrase ---------------------------------------------------------------------

NEW_PASSPHRASE = "another long and unguessable one"


def _same(a: MemberKeys, b: MemberKeys) -> bool:
    return (
        a.chain_account.address == b.chain_account.address
        and a.storage_key == b.storage_key
        and [p.private_bytes() for p in a.encryption_keys] == [p.private_bytes() for p in b.encryption_keys]
    )


def test_a_new_passphrase_opens_the_same_keys_and_the_old_no_longer(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    original = create_keys(directory, PASSPHRASE, SUITES)
    change_passphrase(directory, PASSPHRASE, NEW_PASSPHRASE)
    assert _same(load_keys(directory, NEW_PASSPHRASE), original)
    with pytest.raises(KeystoreError, match="does not open"):
        load_keys(directory, PASSPHRASE)
    assert sorted(p.name for p in directory.iterdir()) == [CHAIN_KEYSTORE, SECRETS_KEYSTORE]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in directory.iterdir())
    with pytest.raises(KeystoreError, match="does not open"):
        change_passphrase(directory, PASSPHRASE, "a third passphrase, never set")


def _interrupted(directory: Path, *, moved: int) -> MemberKeys:
    """A passphrase change stopped by a crash after moving ``moved`` of its two keystores (the
    chain keystore moves first)."""
    original = create_keys(directory, PASSPHRASE, SUITES)
    names = (CHAIN_KEYSTORE, SECRETS_KEYSTORE)
    old = {name: (directory / name).read_bytes() for name in names}
    change_passphrase(directory, PASSPHRASE, NEW_PASSPHRASE)
    # Back to the moment before the moves: the old keystores in place, the new ones beside them.
    for name in names:
        (directory / (name + ".next")).write_bytes((directory / name).read_bytes())
        (directory / name).write_bytes(old[name])
    for name in names[:moved]:
        (directory / (name + ".next")).replace(directory / name)
    return original


def test_a_change_cut_short_after_the_first_move_is_completed(tmp_path: Path) -> None:
    original = _interrupted(tmp_path / "keys", moved=1)
    assert _same(load_keys(tmp_path / "keys", NEW_PASSPHRASE), original)
    assert not list((tmp_path / "keys").glob("*.next"))


def test_a_change_cut_short_before_any_move_is_forgotten(tmp_path: Path) -> None:
    original = _interrupted(tmp_path / "keys", moved=0)
    assert _same(load_keys(tmp_path / "keys", PASSPHRASE), original)
    assert not list((tmp_path / "keys").glob("*.next"))
    with pytest.raises(KeystoreError):
        load_keys(tmp_path / "keys", NEW_PASSPHRASE)


def test_the_command_changes_the_passphrase_and_refuses_a_weak_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    config = init_bank_gateway(runner, tmp_path)
    address = load_keys(tmp_path / "data" / "keys", PASSPHRASE).chain_account.address
    monkeypatch.setenv("CONFIRMNET_NEW_PASSPHRASE", "changeme")
    weak = runner.invoke(app, ["gateway", "change-passphrase", "--config", str(config)])
    assert weak.exit_code == 2
    assert "refusing a default or short passphrase" in weak.output
    assert load_keys(tmp_path / "data" / "keys", PASSPHRASE).chain_account.address == address
    new_file = tmp_path / "new-passphrase"
    new_file.write_text(NEW_PASSPHRASE + "\n", encoding="utf-8")
    done = runner.invoke(
        app, ["gateway", "change-passphrase", "--config", str(config), "--new-passphrase-file", str(new_file)]
    )
    assert done.exit_code == 0, done.output
    assert load_keys(tmp_path / "data" / "keys", NEW_PASSPHRASE).chain_account.address == address
    monkeypatch.setenv("CONFIRMNET_NEW_PASSPHRASE", "yet another long passphrase")
    again = runner.invoke(app, ["gateway", "change-passphrase", "--config", str(config)])  # the old one, gone
    assert again.exit_code == 2
    assert "does not open" in again.output


# --- rotating the envelope keys ------------------------------------------------------------------


def _sealed(plaintext: bytes, to: EncryptionKeyPair) -> Envelope:
    return seal(plaintext, to.public_key, letter_id="0x" + "ab" * 32, step="letter", sender=2, recipient=3)


def test_rotated_envelope_keys_open_what_was_sealed_to_the_old_ones(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    before = create_keys(directory, PASSPHRASE, (EnvelopeSuite.MLKEM768_X25519, EnvelopeSuite.X25519))
    in_flight = _sealed(b"sealed before the rotation", before.encryption_keys[1])
    after = rotate_encryption_keys(directory, PASSPHRASE)
    assert [p.private_bytes() for p in load_keys(directory, PASSPHRASE).decryption_keys] == [
        p.private_bytes() for p in after.decryption_keys
    ]
    assert [p.suite for p in after.encryption_keys] == [p.suite for p in before.encryption_keys]
    assert not {p.private_bytes() for p in after.encryption_keys} & {
        p.private_bytes() for p in before.encryption_keys
    }
    assert [p.private_bytes() for p in after.retired_keys] == [
        p.private_bytes() for p in before.encryption_keys
    ]
    assert (after.chain_account.address, after.storage_key) == (
        before.chain_account.address,
        before.storage_key,
    )
    assert (
        open_envelope(in_flight, after.decryption_keys, expected_recipient=3) == b"sealed before the rotation"
    )
    with pytest.raises(EnvelopeTampered):
        open_envelope(in_flight, after.encryption_keys, expected_recipient=3)  # only the new keys
    fresh = _sealed(b"sealed after", after.encryption_keys[0])
    assert open_envelope(fresh, after.decryption_keys, expected_recipient=3) == b"sealed after"
    again = rotate_encryption_keys(directory, PASSPHRASE)  # the keys retired before are dropped
    assert [p.private_bytes() for p in again.retired_keys] == [
        p.private_bytes() for p in after.encryption_keys
    ]
    with pytest.raises(EnvelopeTampered):
        open_envelope(in_flight, again.decryption_keys, expected_recipient=3)


def test_a_keystore_from_before_rotation_loads_with_no_retired_keys(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    create_keys(directory, PASSPHRASE, SUITES)
    keys = load_keys(directory, PASSPHRASE)
    assert keys.retired_keys == ()
    assert keys.decryption_keys == keys.encryption_keys


def test_the_command_rotates_the_envelope_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    config = init_bank_gateway(runner, tmp_path)
    before = load_keys(tmp_path / "data" / "keys", PASSPHRASE)
    done = runner.invoke(app, ["gateway", "rotate-encryption-keys", "--config", str(config)])
    assert done.exit_code == 0, done.output
    after = load_keys(tmp_path / "data" / "keys", PASSPHRASE)
    assert [p.private_bytes() for p in after.retired_keys] == [
        p.private_bytes() for p in before.encryption_keys
    ]
    assert not list((tmp_path / "data" / "keys").glob("*.rotating"))
