#!/usr/bin/env python3
"""Generates the files of a confirmnet chain: Hyperledger Besu validators running QBFT.

    python deploy/besu/generate.py --out deploy/besu/network --validators 4 --chain-id 1337 --block-period 2

writes, for the compose file beside this script:

    OUT/genesis.json                    QBFT genesis: the validators in extraData, every fork up to
                                        the contracts' evmVersion active at genesis, free gas
    OUT/validators.json                 public facts: name, address, public key, enode, addresses
    OUT/admin/validator-N.pem           the key that signs validator N's admin tokens (mode 600):
                                        secret, never inside the node's data path
    OUT/validator-N/key                 the node key (secp256k1, mode 600): never commit, back it up
    OUT/validator-N/config.toml         Besu's options for that node
    OUT/validator-N/permissions_config.toml   the node and account allowlists, the same on every node
    OUT/validator-N/static-nodes.json   the other validators, to connect to without discovery
    OUT/validator-N/rpc-admin.pub.pem   the public half of OUT/admin/validator-N.pem

Each validator directory is that node's ``--data-path`` (mounted at /data), so Besu writes its
database beside the key. The script refuses to overwrite an existing network: new keys and a new
genesis make a new chain. ``validate.py`` checks what it wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from eth_keys.constants import SECPK1_N
from eth_keys.datatypes import PrivateKey

HERE = Path(__file__).resolve().parent
# The contracts' build record (package data of node_gateway).
BUILD_INFO = HERE.parents[1] / "node_gateway" / "chain" / "build" / "build-info.json"

# The contracts are compiled for this EVM version (their build-info.json); the genesis
# activates exactly the forks up to it. A newer one (Prague: system contracts, blob schedule) needs
# more genesis than a timestamp, so changing it is a deliberate edit here, not a lookup.
EVM_VERSION = "cancun"
MILESTONES: dict[str, int] = {
    "homesteadBlock": 0,
    "eip150Block": 0,
    "eip158Block": 0,
    "byzantiumBlock": 0,
    "constantinopleBlock": 0,
    "petersburgBlock": 0,
    "istanbulBlock": 0,
    "muirGlacierBlock": 0,
    "berlinBlock": 0,
    "londonBlock": 0,
    "arrowGlacierBlock": 0,
    "grayGlacierBlock": 0,
    # Paris (the Merge) has no block of its own on a BFT chain: Besu's Shanghai rules include its.
    "shanghaiTime": 0,
    "cancunTime": 0,
}

# QBFT blocks carry this constant mixHash: "ctical byzantine fault tolerance", as Besu has it.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
EPOCH_LENGTH = 30_000
# Enough for about a thousand confirmation steps a block, small enough that a block of them is
# executed well within the block period.
GAS_LIMIT = 100_000_000
# Seconds between blocks unless --block-period says otherwise (monitoring/alerts.yml assumes it).
DEFAULT_BLOCK_PERIOD = 2

# Addresses in docker-compose.yml. Validator N is 172.30.0.(10+N) on the validators' own network;
# serves the gateway's JSON-RPC at 172.30.(10+N).11, on a network shared with that gateway only;
# and its metrics at 172.30.2.(10+N), on the network Prometheus scrapes.
NETWORK_PREFIX = "172.30"
HOST_OFFSET = 10
MAX_VALIDATORS = 100
P2P_PORT = 30303
RPC_PORT = 8545
ADMIN_PORT = 8546
METRICS_PORT = 9545
# Paths inside the Besu container.
DATA_PATH = "/data"
GENESIS_PATH = "/config/genesis.json"
PERMISSIONS_FILE = "permissions_config.toml"
ADMIN_PUBLIC_KEY = "rpc-admin.pub.pem"

# The gateway's node serves what web3 reads and sends with, and nothing that governs the chain.
GATEWAY_APIS = ["ETH", "NET", "WEB3"]
# The admin endpoint: votes, allowlists, peers, the pool, and reads to check them by.
ADMIN_APIS = ["ADMIN", "ETH", "NET", "PERM", "QBFT", "TXPOOL"]
# Besu's share of the pool for one sender in its ENTERPRISE/PRIVATE profile.
POOL_SHARE_PER_SENDER = 0.15


@dataclass(frozen=True)
class Validator:
    index: int
    private_key: bytes

    @property
    def name(self) -> str:
        return f"validator-{self.index}"

    @property
    def p2p_ip(self) -> str:
        return f"{NETWORK_PREFIX}.0.{HOST_OFFSET + self.index}"

    @property
    def rpc_ip(self) -> str:
        return f"{NETWORK_PREFIX}.{HOST_OFFSET + self.index}.11"

    @property
    def metrics_ip(self) -> str:
        return f"{NETWORK_PREFIX}.2.{HOST_OFFSET + self.index}"

    @property
    def public_key(self) -> str:
        """The uncompressed public key without its 04 prefix, as in enode URLs (128 hex digits)."""
        return PrivateKey(self.private_key).public_key.to_hex().removeprefix("0x")

    @property
    def address(self) -> str:
        return str(PrivateKey(self.private_key).public_key.to_checksum_address())

    @property
    def enode(self) -> str:
        return f"enode://{self.public_key}@{self.p2p_ip}:{P2P_PORT}"


def new_private_key() -> bytes:
    """A uniformly random secp256k1 private key."""
    while True:
        candidate = secrets.token_bytes(32)
        if 0 < int.from_bytes(candidate, "big") < SECPK1_N:
            return candidate


def qbft_extra_data(addresses: list[str]) -> str:
    """QBFT genesis extraData: RLP([32-byte vanity, [validators], no vote, round 0, no seals])."""
    validators = [bytes.fromhex(address.removeprefix("0x")) for address in addresses]
    encoded: bytes = rlp.encode([bytes(32), validators, [], 0, []])
    return "0x" + encoded.hex()


def genesis(chain_id: int, block_period: int, validators: list[Validator], timestamp: int) -> dict[str, Any]:
    return {
        "config": {
            "chainId": chain_id,
            **MILESTONES,
            # Free gas: blocks have a zero base fee, and the nodes accept a zero gas price.
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": block_period,
                "epochlength": EPOCH_LENGTH,
                # Twice the block period, as Besu advises to start from; tune it down if no round
                # changes appear in the logs.
                "requesttimeoutseconds": 2 * block_period,
            },
        },
        "nonce": "0x0",
        "timestamp": hex(timestamp),
        "extraData": qbft_extra_data([v.address for v in validators]),
        "gasLimit": hex(GAS_LIMIT),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        # Without it the genesis block would carry Besu's default 1 gwei base fee.
        "baseFeePerGas": "0x0",
        # No prefunded account: with a zero gas price, transactions cost nothing.
        "alloc": {},
    }


def _toml_list(items: list[str]) -> str:
    return "[" + ",".join(json.dumps(item) for item in items) + "]"


def permissions_config(validators: list[Validator]) -> str:
    """Both allowlists, one line each: Besu rewrites the file line by line (and without these
    comments) when perm_add*/perm_remove* are called. No account may send until it is added."""
    return (
        '# Besu local permissioning: the same file on every node (README.md, "Permissioning").\n'
        "# nodes-allowlist: the nodes this node peers with. accounts-allowlist: the accounts whose\n"
        "# transactions it accepts, relays and puts in blocks (each member's gateway account).\n"
        f"nodes-allowlist={_toml_list([v.enode for v in validators])}\n"
        "accounts-allowlist=[]\n"
    )


def node_config(validator: Validator) -> str:
    """Besu's options for one validator (``--config-file``); README.md explains each choice."""
    permissions = f"{DATA_PATH}/{PERMISSIONS_FILE}"
    return f"""\
# Besu options of {validator.name}, generated by deploy/besu/generate.py; check with validate.py.
data-path="{DATA_PATH}"
genesis-file="{GENESIS_PATH}"
node-private-key-file="{DATA_PATH}/key"

# A private network's storage: every validator imports the whole chain from genesis (full sync)
# into Forest, which keeps every state. Bonsai with full sync keeps 512 blocks of state and may not
# prune its trie logs, so it grows without bound.
sync-mode="FULL"
data-storage-format="FOREST"

# Peer to peer: the validators only, at fixed addresses, without discovery.
p2p-host="{validator.p2p_ip}"
p2p-interface="{validator.p2p_ip}"
p2p-port={P2P_PORT}
discovery-enabled=false
static-nodes-file="{DATA_PATH}/static-nodes.json"
permissions-nodes-config-file-enabled=true
permissions-nodes-config-file="{permissions}"
permissions-accounts-config-file-enabled=true
permissions-accounts-config-file="{permissions}"

# The gateway's JSON-RPC, on the network this node shares with its gateway only: reading and
# sending, nothing that governs the chain, so no credentials for the gateway to hold. (The image
# sets BESU_RPC_HTTP_HOST=0.0.0.0, which wins over this file: docker-compose.yml sets it back.)
rpc-http-enabled=true
rpc-http-host="{validator.rpc_ip}"
rpc-http-port={RPC_PORT}
rpc-http-api={_toml_list(GATEWAY_APIS)}
rpc-http-authentication-enabled=false
# Host headers: the gateway's and Prometheus's (this name), the health check's (the address), the
# admin client's (loopback).
host-allowlist={_toml_list([validator.name, validator.rpc_ip, "127.0.0.1"])}
# Reverted transactions keep their revert data, so the gateways decode the contracts' errors.
revert-reason-enabled=true

# The admin endpoint: votes and allowlists, on this node's loopback only (reached from a container
# in its network namespace, README.md "Admin calls"), each call with a token naming its method,
# signed by the key whose public half is beside this file.
rpc-ws-enabled=true
rpc-ws-host="127.0.0.1"
rpc-ws-port={ADMIN_PORT}
rpc-ws-api={_toml_list(ADMIN_APIS)}
rpc-ws-authentication-enabled=true
rpc-ws-authentication-jwt-algorithm="RS256"
rpc-ws-authentication-jwt-public-key-file="{DATA_PATH}/{ADMIN_PUBLIC_KEY}"

# Metrics for Prometheus, on the monitoring network (the Host header must be in host-allowlist).
metrics-enabled=true
metrics-host="{validator.metrics_ip}"
metrics-port={METRICS_PORT}

# Free gas, and what keeps it from being free spam: only allowlisted accounts send (above); the
# pool is first in, first out, and one sender holds at most {POOL_SHARE_PER_SENDER:.0%} of it, as in Besu's
# private profile; every transaction must be signed for this chain (EIP-155).
min-gas-price=0
tx-pool-min-gas-price=0
tx-pool="SEQUENCED"
tx-pool-limit-by-account-percentage={POOL_SHARE_PER_SENDER}
tx-pool-no-local-priority=true
strict-tx-replay-protection-enabled=true

logging="INFO"
"""


def admin_key_pair() -> tuple[bytes, bytes]:
    """An RSA key pair for RS256 tokens (Besu's default JWT algorithm): private and public PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _write(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(text.encode("utf-8") if isinstance(text, str) else text)
    os.chmod(path, mode)  # O_CREAT's mode is masked by the umask


def _check_evm_version() -> None:
    if not BUILD_INFO.exists():
        return  # the script copied away from the repository: nothing to compare with
    pinned = json.loads(BUILD_INFO.read_text(encoding="utf-8"))["settings"]["evmVersion"]
    if pinned != EVM_VERSION:
        raise SystemExit(
            f"the contracts are built for evmVersion {pinned!r} but this script activates the forks "
            f"up to {EVM_VERSION!r}: update EVM_VERSION and MILESTONES in {Path(__file__).name}"
        )


def generate(out: Path, *, validators: int, chain_id: int, block_period: int) -> list[Validator]:
    """Writes a new network into ``out``; refuses if one is there already."""
    if (out / "genesis.json").exists() or any(out.glob("validator-*/key")) or (out / "admin").exists():
        raise FileExistsError(f"{out} already holds a network; move it away to generate a new one")
    nodes = [Validator(index, new_private_key()) for index in range(1, validators + 1)]
    out.mkdir(parents=True, exist_ok=True)
    document = genesis(chain_id, block_period, nodes, int(time.time()))
    _write(out / "genesis.json", json.dumps(document, indent=2) + "\n")
    public = [
        {
            "name": v.name,
            "address": v.address,
            "public_key": v.public_key,
            "enode": v.enode,
            "p2p_ip": v.p2p_ip,
            "rpc_url": f"http://{v.name}:{RPC_PORT}",
            "metrics_target": f"{v.name}:{METRICS_PORT}",
        }
        for v in nodes
    ]
    _write(out / "validators.json", json.dumps(public, indent=2) + "\n")
    (out / "admin").mkdir(mode=0o700)
    for node in nodes:
        directory = out / node.name
        directory.mkdir(mode=0o700)
        # Besu reads the key as one line of hex (as `besu` itself writes it).
        _write(directory / "key", "0x" + node.private_key.hex(), mode=0o600)
        _write(directory / "config.toml", node_config(node))
        _write(directory / PERMISSIONS_FILE, permissions_config(nodes))
        others = [v.enode for v in nodes if v is not node]
        _write(directory / "static-nodes.json", json.dumps(others, indent=2) + "\n")
        private, public_pem = admin_key_pair()
        _write(out / "admin" / f"{node.name}.pem", private, mode=0o600)
        _write(directory / ADMIN_PUBLIC_KEY, public_pem)
    return nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=HERE / "network", help="where to write (default: %(default)s)"
    )
    parser.add_argument("--validators", type=int, default=4, help="how many validators (default: 4)")
    parser.add_argument("--chain-id", type=int, default=1337, help="the chain id (default: 1337)")
    parser.add_argument(
        "--block-period",
        type=int,
        default=DEFAULT_BLOCK_PERIOD,
        help="seconds between blocks (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not 4 <= args.validators <= MAX_VALIDATORS:
        parser.error(
            f"QBFT needs at least 4 validators to tolerate a faulty one (at most {MAX_VALIDATORS} here)"
        )
    if args.block_period < 1:
        parser.error("the block period is a whole number of seconds, at least 1")
    _check_evm_version()
    try:
        nodes = generate(
            args.out, validators=args.validators, chain_id=args.chain_id, block_period=args.block_period
        )
    except FileExistsError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 1
    print(f"QBFT network for chain {args.chain_id} written to {args.out}")
    for node in nodes:
        print(f"  {node.name}  {node.address}  {node.enode}")
    print("The validator-N/key and admin/*.pem files are secret: back them up, never commit them.")
    print("No account may send transactions yet: allowlist each member's account (README.md, step 5).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
