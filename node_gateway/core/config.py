"""Gateway configuration: a TOML file written by ``confirmnet gateway init``, overridable by
``CONFIRMNET_*`` environment variables. The passphrase never lives in the file."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_serializer, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from node_gateway.chain.contracts import Role
from node_gateway.errors import NodeGatewayError
from node_gateway.protocol.envelopes import DEFAULT_SUITE, EnvelopeSuite


class MemberRole(StrEnum):
    OPERATOR = "operator"
    AUDIT_FIRM = "audit_firm"
    BANK = "bank"
    REGULATOR = "regulator"

    @property
    def chain_role(self) -> Role:
        return {
            MemberRole.OPERATOR: Role.OPERATOR,
            MemberRole.AUDIT_FIRM: Role.AUDIT_FIRM,
            MemberRole.BANK: Role.BANK,
            MemberRole.REGULATOR: Role.REGULATOR,
        }[self]


# Passphrases that come with examples and tutorials; a gateway refuses to run on them.
_DEFAULT_SECRETS = frozenset({"", "changeme", "change-me", "password", "passphrase", "secret", "confirmnet"})
MIN_PASSPHRASE_LENGTH = 12


class ConfigError(NodeGatewayError):
    """The configuration is missing something or holds an unsafe value."""

    code = "config_error"


# A limit's currency when the setting names none: the letters' home currency.
DEFAULT_LIMIT_CURRENCY = "CNY"


def parse_currency_limits(text: str) -> dict[str, Decimal]:
    """Amount limits per currency from their text form ``CNY=30000000,USD=4000000`` (a bare
    number: a CNY limit); ValueError names the part that is not one."""
    limits: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, _, amount = part.rpartition("=")
        code = code.strip().upper() or DEFAULT_LIMIT_CURRENCY
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"{code!r} is not a currency code (three letters, as CNY)")
        try:
            limit = Decimal(amount.strip())
        except ArithmeticError:
            raise ValueError(f"{amount!r} is not an amount") from None
        if not limit.is_finite() or limit < 0:
            raise ValueError(f"the {code} limit {amount!r} is not an amount of zero or more")
        limits[code] = limit
    return limits


def check_passphrase(value: str) -> str:
    """``value``, unless it is a default, short or one key held down (ConfigError)."""
    # A default spelled out at length ("changemechangeme") or one key held down is no secret.
    if value.lower() in _DEFAULT_SECRETS or len(value) < MIN_PASSPHRASE_LENGTH or len(set(value)) < 5:
        raise ConfigError(
            f"refusing a default or short passphrase (at least {MIN_PASSPHRASE_LENGTH} characters)"
        )
    return value


class GatewaySettings(BaseSettings):
    """Everything a gateway needs to start."""

    model_config = SettingsConfigDict(env_prefix="CONFIRMNET_", extra="forbid")

    role: MemberRole
    display_name: str
    registration_code: str = Field(description="The organisation's registration code (统一社会信用代码)")
    data_dir: Path
    network_file: Path
    rpc_url: str | None = Field(
        None, description="This gateway's own JSON-RPC endpoint (its node); the network file's if unset"
    )
    database_url: str | None = Field(None, description="SQLAlchemy URL; a SQLite file in data_dir if unset")
    letter_number_prefix: str | None = Field(
        None,
        pattern=r"^[0-9A-Z]{1,10}$",
        description="An audit firm's prefix of its letters' 函证编号 (MJ gives MJ-2025-000017); "
        "F and the member number if unset",
    )
    # The firm's review (审核) and acceptance (验收): preparer and reviewer are different people.
    firm_review_required: bool = Field(
        False,
        description="An audit firm's letters wait, prepared, until a manager other than their "
        "preparer approves them; only a manager accepts (closes) a reply",
    )
    authorisation_return_days: int = Field(
        10,
        ge=0,
        description="An audit firm's letter the auditee has not authorised within these calendar "
        "days of its request goes back to the firm (withdrawn on chain); 0: never",
    )
    host: str = "127.0.0.1"
    port: int = 8700
    public_url: str | None = Field(
        None, description="Where other gateways reach this one (published on chain)"
    )
    envelope_suite: EnvelopeSuite = DEFAULT_SUITE
    passphrase: SecretStr | None = None
    passphrase_file: Path | None = None
    # The background loops wake on work (node_gateway/services/worker.py): a queue when this process
    # queues something, the indexer when the node announces a block. These bound the rest.
    poll_interval_s: float = Field(
        2.0,
        gt=0,
        description="Where the node offers no subscription to new blocks (no WebSocket): how often "
        "the indexer asks it for its head; the chain's block time (2 s on the consortium's QBFT "
        "chain), never shorter in production",
    )
    queue_fallback_s: float = Field(
        10.0,
        gt=0,
        description="The longest a queue (transactions, deliveries, plugins' work) sleeps with "
        "nothing to wake it: how late it sees work queued by another process sharing its database; "
        "retries wake it when they are due",
    )
    queue_fallback_watched_s: float = Field(
        60.0,
        gt=0,
        description="The same where the gateway's database is an SQLite file, whose every commit, "
        "by any process, wakes the queues (told by inotify, or seen every 0.5 s): it bounds only a "
        "plugin's own retry pause (the bank workflow's, after its core bank failed)",
    )
    ws_url: str | None = Field(
        None,
        description="The node's WebSocket endpoint for new blocks (eth_subscribe newHeads); unset: "
        "the JSON-RPC URL as ws:// (anvil serves both on one port; Besu's is its --rpc-ws-port)",
    )
    peer_clock_skew_s: int = 300
    peer_max_body_bytes: int | None = Field(
        None,
        ge=1024,
        description="The largest body the peer API reads (413 beyond); unset: a full batch of the "
        "largest envelopes (node_gateway/api/routes/peer.py, DEFAULT_MAX_BODY_BYTES)",
    )
    log_level: str = "INFO"
    # The bank adapter (bank gateways only; see bank_adapter/).
    core_banking_url: str | None = Field(
        None, description="SQLAlchemy URL of the core bank; unset: no automatic checks and drafts"
    )
    approval_policy: Literal["manual", "straight_through"] = "manual"
    straight_through_limit: Annotated[dict[str, Decimal] | None, NoDecode] = Field(
        None,
        description="Per currency, the largest amount a reply may state and still go straight through "
        "(CNY=30000000,USD=4000000; a bare number is a CNY limit). A reply stating an amount in a "
        "currency without a limit is reviewed by a person; unset: no limit in any currency",
    )
    # Who answers for the straight-through control, as its replies name them: without both, every
    # draft is reviewed by a person.
    straight_through_accountable_name: str | None = Field(
        None, max_length=200, description="The person accountable for the straight-through control"
    )
    straight_through_accountable_title: str | None = Field(
        None, max_length=200, description="Their title (职务), e.g. 运营管理部总经理"
    )

    @field_validator("straight_through_limit", mode="before")
    @classmethod
    def _limits_per_currency(cls, value: object) -> object:
        if isinstance(value, int | float | Decimal):
            value = str(value)
        return parse_currency_limits(value) if isinstance(value, str) else value

    @field_serializer("straight_through_limit", when_used="json")
    def _limits_as_text(self, limits: dict[str, Decimal] | None) -> str | None:
        return None if limits is None else ",".join(f"{code}={amount}" for code, amount in limits.items())

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'gateway.db'}"

    @property
    def effective_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def keystore_dir(self) -> Path:
        return self.data_dir / "keys"

    def read_passphrase(self) -> str:
        """The keystore passphrase, from the environment or a file; refuses missing or default ones."""
        if self.passphrase is not None:
            value = self.passphrase.get_secret_value()
        elif self.passphrase_file is not None:
            try:
                value = self.passphrase_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the passphrase file {self.passphrase_file}: {exc}") from exc
        else:
            raise ConfigError("no passphrase: set CONFIRMNET_PASSPHRASE or CONFIRMNET_PASSPHRASE_FILE")
        return check_passphrase(value)

    @classmethod
    def from_file(cls, path: Path) -> GatewaySettings:
        """Settings from a TOML file, with CONFIRMNET_* environment variables taking precedence."""
        if not path.exists():
            raise ConfigError(f"no configuration file at {path}")
        if "passphrase" in tomllib.loads(path.read_text(encoding="utf-8")):
            raise ConfigError(f"{path} holds a passphrase; keep it in the environment or a passphrase file")

        class _FromFile(cls):  # type: ignore[valid-type,misc]
            @classmethod
            def settings_customise_sources(
                cls,
                settings_cls: type[BaseSettings],
                init_settings: PydanticBaseSettingsSource,
                env_settings: PydanticBaseSettingsSource,
                dotenv_settings: PydanticBaseSettingsSource,
                file_secret_settings: PydanticBaseSettingsSource,
            ) -> tuple[PydanticBaseSettingsSource, ...]:
                return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))

        loaded: GatewaySettings = _FromFile()
        return cls.model_validate(loaded.model_dump())


def write_config(path: Path, settings: GatewaySettings) -> None:
    """Writes the settings as TOML, without any secret."""
    values = settings.model_dump(mode="json", exclude={"passphrase"}, exclude_none=True)
    lines = ["# confirmnet gateway configuration. The passphrase is never stored here."]
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{key} = {value}")
        else:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key} = "{escaped}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
