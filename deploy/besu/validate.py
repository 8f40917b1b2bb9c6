#!/usr/bin/env python3
"""Checks a Besu network written by generate.py against this kit's rules and Besu's documented ones.

    python deploy/besu/validate.py --network deploy/besu/network [--besu COMMAND]

Always, from the files alone: the genesis extraData decodes to the validators whose keys are there;
keys are private; every config.toml uses only options of Besu's 25.x reference and holds the kit's
rules (Forest storage and full sync; the gateway's HTTP JSON-RPC limited to ETH, NET, WEB3; the
admin WebSocket on loopback with JWT authentication; metrics on; accounts and nodes allowlisted;
the pool's per-sender cap, a zero gas price, strict replay protection); the allowlists are the same
on every node and name exactly the validators' enodes; static nodes are the other validators.

With Besu: ``besu validate-config`` on each config.toml, and ``besu rlp decode`` of the genesis
extraData compared with the validators. Besu is the ``besu`` command if it is on PATH, or COMMAND:
the words that run it, e.g. the image with the kit mounted at the same path (README.md, step 3):

    --besu "docker run --rm -i -v $PWD:$PWD:ro --entrypoint /opt/besu/bin/besu hyperledger/besu:25.6.0"

Prints each failure; exits 1 if there is one, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from eth_keys.datatypes import PrivateKey

# Every option the kit sets, each looked up in Besu's CLI reference (public and private network
# options) for 25.x. An option outside it is a typo or an option this kit never checked.
KNOWN_OPTIONS = frozenset(
    {
        "data-path",
        "genesis-file",
        "node-private-key-file",
        "sync-mode",
        "data-storage-format",
        "p2p-host",
        "p2p-interface",
        "p2p-port",
        "discovery-enabled",
        "static-nodes-file",
        "permissions-nodes-config-file-enabled",
        "permissions-nodes-config-file",
        "permissions-accounts-config-file-enabled",
        "permissions-accounts-config-file",
        "rpc-http-enabled",
        "rpc-http-host",
        "rpc-http-port",
        "rpc-http-api",
        "rpc-http-authentication-enabled",
        "host-allowlist",
        "revert-reason-enabled",
        "rpc-ws-enabled",
        "rpc-ws-host",
        "rpc-ws-port",
        "rpc-ws-api",
        "rpc-ws-authentication-enabled",
        "rpc-ws-authentication-jwt-algorithm",
        "rpc-ws-authentication-jwt-public-key-file",
        "metrics-enabled",
        "metrics-host",
        "metrics-port",
        "min-gas-price",
        "tx-pool-min-gas-price",
        "tx-pool",
        "tx-pool-limit-by-account-percentage",
        "tx-pool-no-local-priority",
        "strict-tx-replay-protection-enabled",
        "logging",
    }
)
# Options whose value is fixed by this kit's rules.
REQUIRED: dict[str, object] = {
    "data-path": "/data",
    "sync-mode": "FULL",
    "data-storage-format": "FOREST",
    "discovery-enabled": False,
    "permissions-nodes-config-file-enabled": True,
    "permissions-accounts-config-file-enabled": True,
    "rpc-http-enabled": True,
    "rpc-http-authentication-enabled": False,
    "revert-reason-enabled": True,
    "rpc-ws-enabled": True,
    "rpc-ws-host": "127.0.0.1",
    "rpc-ws-authentication-enabled": True,
    "rpc-ws-authentication-jwt-algorithm": "RS256",
    "metrics-enabled": True,
    "min-gas-price": 0,
    "tx-pool-min-gas-price": 0,
    "tx-pool": "SEQUENCED",
    "strict-tx-replay-protection-enabled": True,
}
GATEWAY_APIS = {"ETH", "NET", "WEB3"}
ADMIN_APIS_NEEDED = {"QBFT", "PERM"}
MAX_POOL_SHARE = 0.15  # Besu's ENTERPRISE/PRIVATE profile
PERMISSIONS_FILE = "permissions_config.toml"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _load_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path}: {exc}")
        return None


def _in_data_path(value: object, data_path: str, directory: Path) -> Path | None:
    """The host file behind a container path inside the node's data path, or None if outside."""
    if not isinstance(value, str) or not value.startswith(data_path.rstrip("/") + "/"):
        return None
    return directory / value[len(data_path.rstrip("/")) + 1 :]


def check_config(name: str, directory: Path, config: dict[str, Any], p2p_ip: str) -> list[str]:
    """The kit's rules for one node's config.toml."""
    where = f"{name}/config.toml"
    problems = [
        f"{where}: {key} is not an option this kit checked" for key in config if key not in KNOWN_OPTIONS
    ]
    for key, wanted in REQUIRED.items():
        value = config.get(key)
        same = (
            value.upper() == str(wanted) if key == "tx-pool" and isinstance(value, str) else value == wanted
        )
        if not same or type(value) is not type(wanted):
            problems.append(f"{where}: {key} must be {wanted!r}, not {value!r}")
    data_path = str(config.get("data-path", "/data"))
    for key in ("permissions-nodes-config-file", "permissions-accounts-config-file"):
        if config.get(key) != f"{data_path}/{PERMISSIONS_FILE}":
            problems.append(f"{where}: {key} must be {data_path}/{PERMISSIONS_FILE}: one file, both lists")
    http_apis = {str(api).upper() for api in config.get("rpc-http-api", [])}
    if not http_apis or not http_apis <= GATEWAY_APIS:
        problems.append(f"{where}: rpc-http-api {sorted(http_apis)} must be within {sorted(GATEWAY_APIS)}")
    ws_apis = {str(api).upper() for api in config.get("rpc-ws-api", [])}
    if not ws_apis >= ADMIN_APIS_NEEDED:
        problems.append(f"{where}: rpc-ws-api must offer {sorted(ADMIN_APIS_NEEDED)} to the admin")
    for key in ("rpc-http-host", "metrics-host"):
        if config.get(key) in (None, "0.0.0.0", "::"):  # noqa: S104 (the check for it)
            problems.append(f"{where}: {key} must be one address, not {config.get(key)!r}")
    allowlist = config.get("host-allowlist", [])
    if "*" in allowlist or "all" in allowlist or name not in allowlist or "127.0.0.1" not in allowlist:
        problems.append(f"{where}: host-allowlist must name {name} and 127.0.0.1, and not allow all")
    share = config.get("tx-pool-limit-by-account-percentage")
    if not isinstance(share, float | int) or not 0 < share <= MAX_POOL_SHARE:
        problems.append(f"{where}: tx-pool-limit-by-account-percentage must be in (0, {MAX_POOL_SHARE}]")
    if config.get("p2p-host") != p2p_ip:
        problems.append(f"{where}: p2p-host {config.get('p2p-host')!r} is not the enode's {p2p_ip}")
    if config.get("node-private-key-file") != f"{data_path}/key":
        problems.append(f"{where}: node-private-key-file must be {data_path}/key")
    public_key = _in_data_path(config.get("rpc-ws-authentication-jwt-public-key-file"), data_path, directory)
    if public_key is None:
        problems.append(f"{where}: the admin JWT public key must be inside {data_path}")
    else:
        try:
            admin_key = serialization.load_pem_public_key(public_key.read_bytes())
            if not isinstance(admin_key, rsa.RSAPublicKey) or admin_key.key_size < 2048:
                problems.append(f"{name}/{public_key.name}: not an RSA key of 2048 bits or more (RS256)")
        except (OSError, ValueError) as exc:
            problems.append(f"{name}/{public_key.name}: {exc}")
    return problems


def check_network(network: Path) -> list[str]:
    """Every file-level check; an empty list when all pass."""
    problems: list[str] = []
    try:
        genesis = json.loads((network / "genesis.json").read_text(encoding="utf-8"))
        validators: list[dict[str, str]] = json.loads(
            (network / "validators.json").read_text(encoding="utf-8")
        )
    except (OSError, ValueError) as exc:
        return [f"{network}: {exc}"]
    addresses = [v["address"].lower() for v in validators]
    enodes = [v["enode"] for v in validators]
    try:
        vanity, listed, vote, round_number, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
        decoded = ["0x" + bytes(a).hex() for a in listed]
        if len(vanity) != 32 or vote != [] or round_number != b"" or seals != []:
            problems.append(
                "genesis.json: extraData is not a genesis one (vanity, no vote, round 0, no seals)"
            )
        if decoded != addresses:
            problems.append(f"genesis.json: extraData names {decoded}, validators.json {addresses}")
    except (KeyError, ValueError, rlp.exceptions.DecodingError) as exc:
        problems.append(f"genesis.json: extraData does not decode as QBFT's: {exc}")
    config = genesis.get("config", {})
    if "qbft" not in config or config.get("zeroBaseFee") is not True or genesis.get("baseFeePerGas") != "0x0":
        problems.append("genesis.json: not a free-gas QBFT genesis (qbft, zeroBaseFee, baseFeePerGas 0)")

    present = [v for v in validators if (network / v["name"]).is_dir()]
    if not present:
        problems.append(f"{network}: no validator directory")
    allowlists: dict[str, dict[str, Any]] = {}
    for validator in present:
        name, directory = validator["name"], network / validator["name"]
        key_file = directory / "key"
        try:
            if stat.S_IMODE(key_file.stat().st_mode) & 0o077:
                problems.append(f"{name}/key: readable by others than its owner (chmod 600)")
            key = PrivateKey(bytes.fromhex(key_file.read_text(encoding="utf-8").strip().removeprefix("0x")))
            if key.public_key.to_checksum_address().lower() != validator["address"].lower():
                problems.append(f"{name}/key: not the key of {validator['address']}")
            if not validator["enode"].startswith(f"enode://{key.public_key.to_hex()[2:]}@"):
                problems.append(f"{name}/key: not the key of the enode in validators.json")
        except (OSError, ValueError) as exc:
            problems.append(f"{name}/key: {exc}")
        node_config = _load_toml(directory / "config.toml", problems)
        if node_config is not None:
            problems += check_config(name, directory, node_config, validator["p2p_ip"])
        permissions = _load_toml(directory / PERMISSIONS_FILE, problems)
        if permissions is not None:
            allowlists[name] = permissions
            if permissions.get("nodes-allowlist") != enodes:
                problems.append(f"{name}/{PERMISSIONS_FILE}: nodes-allowlist is not the validators' enodes")
            accounts = permissions.get("accounts-allowlist")
            if not isinstance(accounts, list) or not all(ADDRESS.fullmatch(str(a)) for a in accounts):
                problems.append(
                    f"{name}/{PERMISSIONS_FILE}: accounts-allowlist must be a list of 0x addresses"
                )
        try:
            static = json.loads((directory / "static-nodes.json").read_text(encoding="utf-8"))
            if static != [e for e in enodes if e != validator["enode"]]:
                problems.append(f"{name}/static-nodes.json: not the other validators' enodes")
        except (OSError, ValueError) as exc:
            problems.append(f"{name}/static-nodes.json: {exc}")
    normalised = {
        name: (
            {str(a).lower() for a in lists.get("accounts-allowlist", [])},
            list(lists.get("nodes-allowlist", [])),
        )
        for name, lists in allowlists.items()
    }
    if len({json.dumps([sorted(a), n]) for a, n in normalised.values()}) > 1:
        problems.append(f"{PERMISSIONS_FILE}: the allowlists differ between {sorted(normalised)}")
    return problems


def check_with_besu(besu: list[str], network: Path) -> list[str]:
    """``besu validate-config`` on each config.toml (it exits 0 either way: the message tells) and
    ``besu rlp decode`` of the genesis extraData against validators.json."""
    problems: list[str] = []
    for config in sorted(network.resolve().glob("validator-*/config.toml")):
        run = subprocess.run(
            [*besu, "validate-config", f"--config-file={config}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        output = run.stdout + run.stderr
        if run.returncode != 0 or "is valid" not in output or "Exception" in output:
            problems.append(f"besu validate-config {config.parent.name}/config.toml: {output.strip()}")
    genesis = json.loads((network / "genesis.json").read_text(encoding="utf-8"))
    validators = json.loads((network / "validators.json").read_text(encoding="utf-8"))
    run = subprocess.run(
        [*besu, "rlp", "decode", "--type=QBFT_EXTRA_DATA"],
        input=genesis["extraData"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    found = [a.lower() for a in ADDRESS.findall(run.stdout)]
    wanted = [v["address"].lower() for v in validators]
    if run.returncode != 0 or found != wanted:
        problems.append(f"besu rlp decode: {found or run.stdout + run.stderr} is not {wanted}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--network", type=Path, default=Path(__file__).resolve().parent / "network")
    parser.add_argument("--besu", help="the command that runs Besu (default: `besu` if on PATH)")
    args = parser.parse_args(argv)
    problems = check_network(args.network)
    besu = shlex.split(args.besu) if args.besu else (["besu"] if shutil.which("besu") else None)
    if besu is None:
        print("Besu not found: file-level checks only (give --besu to run besu validate-config too)")
    elif not problems:
        problems += check_with_besu(besu, args.network)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    print(f"{args.network}: every check passed" + (" (with Besu)" if besu else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
