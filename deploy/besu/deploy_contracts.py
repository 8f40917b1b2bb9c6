"""Deploys the confirmnet contracts with the operator gateway's own key and writes the network file.

Stands in for the proposed ``confirmnet network deploy`` command. It runs where the operator's
gateway keeps its keystore, inside the operator's container (README.md, step 4):

    docker compose run --rm --no-deps -T -v "$PWD/network/gateways:/shared" gateway-operator \\
        python - --config /data/gateway.toml --rpc-url http://validator-1:8545 \\
        --chain-id 1337 --out /shared/network.json < deploy_contracts.py

The operator's account becomes member 1 of the MemberRegistry; on a chain with a zero gas price
it needs no funds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from node_gateway.chain.errors import ChainError
from node_gateway.chain.network import connect, deploy_network
from node_gateway.chain.transactions import TransactionSender, rpc
from node_gateway.core.config import ConfigError, GatewaySettings, MemberRole
from node_gateway.core.keys import KeystoreError, load_keys
from node_gateway.protocol.hashing import organisation_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy the contracts with the operator gateway's key.")
    parser.add_argument("--config", type=Path, required=True, help="the operator gateway's gateway.toml")
    parser.add_argument("--rpc-url", required=True, help="JSON-RPC of a node of the chain")
    parser.add_argument("--out", type=Path, required=True, help="where to write the network file")
    parser.add_argument("--chain-id", type=int, help="refuse to deploy unless the node is on this chain")
    args = parser.parse_args(argv)

    try:
        return _deploy(args.config, args.rpc_url, args.out, args.chain_id)
    except (ConfigError, KeystoreError, ChainError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1


def _deploy(config: Path, rpc_url: str, out: Path, expected_chain_id: int | None) -> int:
    settings = GatewaySettings.from_file(config)
    if settings.role is not MemberRole.OPERATOR:
        raise ConfigError(f"{config} is the gateway of a {settings.role.value}, not of the operator")
    if out.exists():
        raise ConfigError(f"{out} exists: the contracts are deployed already")
    keys = load_keys(settings.keystore_dir, settings.read_passphrase())
    w3 = connect(rpc_url)
    chain_id = rpc(lambda: w3.eth.chain_id)
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ConfigError(f"the node at {rpc_url} is on chain {chain_id}, not {expected_chain_id}")
    network = deploy_network(
        TransactionSender(w3, keys.chain_account),
        operator_org_id=organisation_id(settings.registration_code),
        operator_name=settings.display_name,
    )
    network.describe(rpc_url).save(out)
    print(f"chain {chain_id}, deployed at block {network.deployment_block} by {keys.chain_account.address}")
    print(f"MemberRegistry        {network.members.address}")
    print(f"ConfirmationRegistry  {network.confirmations.address}")
    print(f"network file          {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
