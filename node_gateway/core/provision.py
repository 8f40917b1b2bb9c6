"""Setting up a member's gateway: keys, configuration, database and the first API keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from node_gateway.core.config import GatewaySettings, write_config
from node_gateway.core.keys import create_keys
from node_gateway.core.security import USER_ROLES, create_user
from node_gateway.protocol.envelopes import EnvelopeSuite
from node_gateway.storage.db import Database

CONFIG_NAME = "gateway.toml"


@dataclass(frozen=True)
class Provisioned:
    account: str
    config_path: Path
    api_keys: dict[str, str]  # one user per role, named after it; shown once, stored hashed


def provision(settings: GatewaySettings, passphrase: str, suites: tuple[EnvelopeSuite, ...]) -> Provisioned:
    """Creates the encrypted keys, writes the configuration (no secrets), migrates the database
    and adds one user per role of the member. Refuses to run over existing keys."""
    keys = create_keys(settings.keystore_dir, passphrase, suites)
    config_path = settings.data_dir / CONFIG_NAME
    write_config(config_path, settings.model_copy(update={"passphrase": None, "passphrase_file": None}))
    db = Database(settings.effective_database_url)
    try:
        db.migrate()
        with db.session() as session:
            api_keys = {
                role: create_user(session, settings.role, role, {role})
                for role in sorted(USER_ROLES[settings.role])
            }
    finally:
        db.dispose()
    return Provisioned(account=keys.chain_account.address, config_path=config_path, api_keys=api_keys)
