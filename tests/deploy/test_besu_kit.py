"""deploy/besu: the QBFT network that generate.py writes, its checks, the compose file, QBFT blocks.

Besu itself is not run here (no container engine): these tests check what can be checked without
it. The genesis activates exactly the forks of the contracts' pinned evmVersion with free gas; its
extraData names exactly the validators whose keys were written; every node configuration holds the
kit's rules (Forest storage with full sync, allowlisted senders, the pool's per-sender cap, strict
replay protection, the gateway's JSON-RPC without governance APIs, the admin endpoint on loopback
with JWT authentication, metrics); validate.py accepts that and refuses each rule broken; the
compose file runs the validators as a non-root user with a heap cap and a readiness health check
(its command run against a stand-in server); the admin client's token verifies with the generated
key; the operator's deploy step works on a zero-fee chain (anvil); and the gateway's web3 client
reads a QBFT block as Besu 25.6.0 returns it (long extraData, no withdrawals).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import rlp  # type: ignore[import-untyped]
import yaml
from coincurve import PrivateKey
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from eth_account import Account
from hexbytes import HexBytes
from typer.testing import CliRunner
from web3 import Web3
from web3.exceptions import ExtraDataLengthError
from websockets.sync.server import ServerConnection, serve

from confirmnet.cli import app
from node_gateway.chain.artifacts import BUILD_DIR
from node_gateway.chain.contracts import Role
from node_gateway.chain.devnet import DEVNET_BLOCK_GAS_LIMIT, AnvilNode
from node_gateway.chain.network import EndpointPolicy, Network, NetworkFile, connect
from node_gateway.core.keys import load_keys

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "deploy" / "besu"
GENERATOR = KIT / "generate.py"
VALIDATOR = KIT / "validate.py"
ADMIN_RPC = KIT / "admin_rpc.py"
COMPOSE = KIT / "docker-compose.yml"
PROMETHEUS = KIT / "monitoring" / "prometheus.yml"
ALERTS = KIT / "monitoring" / "alerts.yml"
BUILD_INFO = BUILD_DIR / "build-info.json"

VALIDATORS = 4
CHAIN_ID = 1337
BLOCK_PERIOD = 2

# Forks in order, with the genesis key Besu reads for each (None: no key on a BFT chain).
FORKS: list[tuple[str, str | None]] = [
    ("homestead", "homesteadBlock"),
    ("tangerineWhistle", "eip150Block"),
    ("spuriousDragon", "eip158Block"),
    ("byzantium", "byzantiumBlock"),
    ("constantinople", "constantinopleBlock"),
    ("petersburg", "petersburgBlock"),
    ("istanbul", "istanbulBlock"),
    ("berlin", "berlinBlock"),
    ("london", "londonBlock"),
    ("paris", None),
    ("shanghai", "shanghaiTime"),
    ("cancun", "cancunTime"),
    ("prague", "pragueTime"),
    ("osaka", "osakaTime"),
]
LATER_FORK_KEYS = {"pragueTime", "osakaTime", "bpo1Time", "bpo2Time", "amsterdamTime", "futureEipsTime"}
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
DEFAULT_CONTRACT_SIZE_LIMIT = 24_576
# APIs that govern the chain or open it up: never on the gateway's port.
GOVERNING_APIS = {"ADMIN", "QBFT", "IBFT", "CLIQUE", "PERM", "MINER", "DEBUG", "TRACE", "TXPOOL", "PLUGINS"}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"besu_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _generate(out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(GENERATOR), "--out", str(out), "--validators", str(VALIDATORS),
               "--chain-id", str(CHAIN_ID), "--block-period", str(BLOCK_PERIOD)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("besu") / "network"
    result = _generate(out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def genesis(kit: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((kit / "genesis.json").read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def validate() -> ModuleType:
    return _load(VALIDATOR)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return document


def _names() -> list[str]:
    return [f"validator-{index}" for index in range(1, VALIDATORS + 1)]


def _private_key(kit: Path, name: str) -> bytes:
    return bytes.fromhex((kit / name / "key").read_text(encoding="utf-8").strip().removeprefix("0x"))


def _public_key(private_key: bytes) -> str:
    """The 64-byte public key of an enode, computed with another library than the generator's."""
    return PrivateKey(private_key).public_key.format(compressed=False)[1:].hex()


def _validators(kit: Path) -> list[dict[str, str]]:
    validators: list[dict[str, str]] = json.loads((kit / "validators.json").read_text(encoding="utf-8"))
    return validators


def _config(kit: Path, name: str) -> dict[str, Any]:
    return tomllib.loads((kit / name / "config.toml").read_text(encoding="utf-8"))


def _configs(kit: Path) -> dict[str, dict[str, Any]]:
    return {name: _config(kit, name) for name in _names()}


def _defaults(value: str) -> str:
    """A compose value with its ${VAR:-default} substitutions at their defaults."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


def test_genesis_activates_exactly_the_forks_of_the_pinned_evm_version(genesis: dict[str, Any]) -> None:
    evm_version = json.loads(BUILD_INFO.read_text(encoding="utf-8"))["settings"]["evmVersion"]
    names = [name for name, _ in FORKS]
    assert evm_version in names, f"unknown evmVersion {evm_version}: extend FORKS"
    pinned = names.index(evm_version)
    config = genesis["config"]
    for position, (fork, key) in enumerate(FORKS):
        if key is None:
            continue
        if position <= pinned:
            assert config.get(key) == 0, f"{fork} ({key}) is not active at genesis"
        else:
            assert key not in config, f"{fork} ({key}) is newer than evmVersion {evm_version}"
    assert not LATER_FORK_KEYS & set(config)


def test_genesis_is_a_free_gas_qbft_genesis(genesis: dict[str, Any]) -> None:
    config = genesis["config"]
    assert config["chainId"] == CHAIN_ID
    assert config["zeroBaseFee"] is True
    assert genesis["baseFeePerGas"] == "0x0"
    assert config["qbft"] == {
        "blockperiodseconds": BLOCK_PERIOD,
        "epochlength": 30_000,
        "requesttimeoutseconds": 2 * BLOCK_PERIOD,
    }
    assert {"ibft2", "clique", "ethash"}.isdisjoint(config)
    assert genesis["difficulty"] == "0x1"
    assert genesis["mixHash"] == QBFT_MIX_HASH
    assert genesis["alloc"] == {}  # a zero gas price needs no funded account
    # The local devnet mines blocks of the same gas, so the benchmarks measure what production holds.
    assert int(genesis["gasLimit"], 16) == DEVNET_BLOCK_GAS_LIMIT >= 30_000_000
    # The default contract size limit applies: the contracts fit in it.
    assert "contractSizeLimit" not in config
    for name in ("MemberRegistry", "ConfirmationRegistry"):
        artifact = json.loads((BUILD_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert len(HexBytes(artifact["deployedBytecode"])) < DEFAULT_CONTRACT_SIZE_LIMIT


def test_generator_refuses_contracts_built_for_another_evm_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = _load(GENERATOR)
    build_info = tmp_path / "build-info.json"
    build_info.write_text(json.dumps({"settings": {"evmVersion": "prague"}}), encoding="utf-8")
    monkeypatch.setattr(generator, "BUILD_INFO", build_info)
    with pytest.raises(SystemExit, match="evmVersion 'prague'"):
        generator._check_evm_version()
    build_info.write_text(json.dumps({"settings": {"evmVersion": generator.EVM_VERSION}}), encoding="utf-8")
    generator._check_evm_version()


def test_extra_data_names_exactly_the_validators_of_the_generated_keys(
    kit: Path, genesis: dict[str, Any]
) -> None:
    vanity, validators, vote, round_number, seals = rlp.decode(HexBytes(genesis["extraData"]))
    assert vanity == bytes(32)
    assert vote == []
    assert round_number == b""  # round 0
    assert seals == []
    expected = [Account.from_key(_private_key(kit, name)).address for name in _names()]
    assert [Web3.to_checksum_address(address) for address in validators] == expected
    assert [v["address"] for v in _validators(kit)] == expected


def test_extra_data_encoding_matches_besu_documentation() -> None:
    # The four-validator example of Besu's QBFT guide, and its RLP.
    addresses = [
        "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
        "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
        "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
        "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
    ]
    expected = (
        "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854"
        "944592c8e45706cc08b8f44b11e43cba0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc70"
        "94c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab5e7f4061c605820d3744227eed91ff8e2c8908c080c0"
    )
    assert _load(GENERATOR).qbft_extra_data(addresses) == expected


def test_allowlists_are_the_same_on_every_node_and_start_with_no_sender(kit: Path) -> None:
    enodes = {
        name: f"enode://{_public_key(_private_key(kit, name))}@172.30.0.{10 + index}:30303"
        for index, name in enumerate(_names(), start=1)
    }
    assert [v["enode"] for v in _validators(kit)] == list(enodes.values())
    files = {name: (kit / name / "permissions_config.toml").read_text(encoding="utf-8") for name in _names()}
    assert len(set(files.values())) == 1  # identical files, as every organisation must keep them
    for name in _names():
        permissions = tomllib.loads(files[name])
        # No account may send until a member's account is added (an empty list refuses everyone).
        assert permissions == {"nodes-allowlist": list(enodes.values()), "accounts-allowlist": []}
        # One line a list: Besu rewrites the file line by line on perm_add*/perm_remove*.
        keys = [line.split("=")[0] for line in files[name].splitlines() if line and not line.startswith("#")]
        assert keys == ["nodes-allowlist", "accounts-allowlist"]
        static = json.loads((kit / name / "static-nodes.json").read_text(encoding="utf-8"))
        assert static == [enode for other, enode in enodes.items() if other != name]
        config = _config(kit, name)
        # Both lists enforced, from the one file in the node's data path (the compose bind mount).
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is True
        assert (
            config["permissions-nodes-config-file"]
            == config["permissions-accounts-config-file"]
            == "/data/permissions_config.toml"
        )
        assert config["discovery-enabled"] is False
        assert config["static-nodes-file"] == "/data/static-nodes.json"


def test_node_and_admin_keys_are_private(kit: Path) -> None:
    for name in _names():
        key_file = kit / name / "key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert re.fullmatch(r"0x[0-9a-f]{64}", key_file.read_text(encoding="utf-8"))
        assert stat.S_IMODE((kit / name).stat().st_mode) == 0o700
        admin_key = kit / "admin" / f"{name}.pem"
        assert stat.S_IMODE(admin_key.stat().st_mode) == 0o600
        private = serialization.load_pem_private_key(admin_key.read_bytes(), password=None)
        public = serialization.load_pem_public_key((kit / name / "rpc-admin.pub.pem").read_bytes())
        assert isinstance(private, rsa.RSAPrivateKey)
        assert isinstance(public, rsa.RSAPublicKey)
        assert private.key_size >= 2048
        assert private.public_key().public_numbers() == public.public_numbers()
    assert stat.S_IMODE((kit / "admin").stat().st_mode) == 0o700
    assert len({_private_key(kit, name) for name in _names()}) == VALIDATORS


def test_storage_is_forest_with_full_sync(kit: Path) -> None:
    for config in _configs(kit).values():
        assert config["sync-mode"] == "FULL"
        # Not Bonsai: with full sync it keeps 512 blocks of state and cannot prune its trie logs.
        assert config["data-storage-format"] == "FOREST"
        assert not any(key.startswith("bonsai-") for key in config)
        assert config["data-path"] == "/data"
        assert config["node-private-key-file"] == "/data/key"
        assert config["genesis-file"] == "/config/genesis.json"


def test_free_gas_is_not_free_spam(kit: Path) -> None:
    for config in _configs(kit).values():
        assert config["min-gas-price"] == 0
        assert config["tx-pool-min-gas-price"] == 0
        assert config["tx-pool"].upper() == "SEQUENCED"
        assert 0 < config["tx-pool-limit-by-account-percentage"] <= 0.15  # Besu's private profile
        assert config["tx-pool-no-local-priority"] is True
        assert config["strict-tx-replay-protection-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is True
        assert config["revert-reason-enabled"] is True


def test_gateway_rpc_governs_nothing_and_the_admin_endpoint_is_authenticated_on_loopback(kit: Path) -> None:
    for index, (name, config) in enumerate(_configs(kit).items(), start=1):
        assert config["rpc-http-enabled"] is True
        assert config["rpc-http-host"] == f"172.30.{10 + index}.11"
        assert config["rpc-http-port"] == 8545
        assert set(config["rpc-http-api"]) == {"ETH", "NET", "WEB3"}
        assert not GOVERNING_APIS & set(config["rpc-http-api"])
        assert config["rpc-http-authentication-enabled"] is False  # the gateway sends no credentials
        assert config["host-allowlist"] == [name, config["rpc-http-host"], "127.0.0.1"]
        assert config["rpc-ws-enabled"] is True
        assert config["rpc-ws-host"] == "127.0.0.1"
        assert {"QBFT", "PERM"} <= set(config["rpc-ws-api"])
        assert config["rpc-ws-authentication-enabled"] is True
        assert config["rpc-ws-authentication-jwt-algorithm"] == "RS256"
        assert config["rpc-ws-authentication-jwt-public-key-file"] == "/data/rpc-admin.pub.pem"
        assert not any(key.startswith("graphql") or key.startswith("engine-") for key in config)


def test_metrics_are_on_for_prometheus(kit: Path) -> None:
    prometheus = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    (besu,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "besu"]
    targets = [target for group in besu["static_configs"] for target in group["targets"]]
    assert targets == [v["metrics_target"] for v in _validators(kit)]
    for index, (name, config) in enumerate(_configs(kit).items(), start=1):
        assert config["metrics-enabled"] is True
        assert config["metrics-host"] == f"172.30.2.{10 + index}"
        assert config["metrics-port"] == 9545
        # Prometheus scrapes validator-N:9545, and Besu's metrics answer only allowlisted hosts.
        assert name in config["host-allowlist"]
        assert f"{name}:{config['metrics-port']}" in targets


def test_every_option_is_one_the_kit_looked_up(kit: Path, validate: ModuleType) -> None:
    for config in _configs(kit).values():
        assert set(config) <= validate.KNOWN_OPTIONS
    # Teku's and Web3Signer's option, not Besu's (whose metrics honour host-allowlist).
    assert "metrics-host-allowlist" not in validate.KNOWN_OPTIONS


def test_generator_never_overwrites_a_network(kit: Path) -> None:
    before = _private_key(kit, "validator-1")
    result = _generate(kit)
    assert result.returncode == 1
    assert "already holds a network" in result.stderr
    assert _private_key(kit, "validator-1") == before


def test_generated_files_and_secrets_are_ignored_by_git() -> None:
    for path in (
        "deploy/besu/network/validator-1/key",
        "deploy/besu/network/admin/validator-1.pem",
        "deploy/besu/admin-validator-5.pem",
        "deploy/besu/backups/validator-4-20260101T000000Z.tgz",
        "deploy/besu/secrets/bank.passphrase",
        "deploy/besu/.env",
    ):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert result.returncode == 0, f"{path} is not ignored by git"


def test_validate_passes_on_the_generated_network(kit: Path, validate: ModuleType, tmp_path: Path) -> None:
    assert validate.check_network(kit) == []
    # As the README runs it, without Besu on PATH: file-level checks only.
    result = subprocess.run(
        [sys.executable, str(VALIDATOR), "--network", str(kit)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "file-level checks only" in result.stdout
    assert "every check passed" in result.stdout


BROKEN_RULES: list[tuple[str, str, str, str]] = [
    # (file in validator-2, text, replacement, what validate.py names)
    ("config.toml", 'data-storage-format="FOREST"', 'data-storage-format="BONSAI"', "data-storage-format"),
    ("config.toml", 'sync-mode="FULL"', 'sync-mode="SNAP"', "sync-mode"),
    ("config.toml", 'rpc-http-api=["ETH","NET","WEB3"]', 'rpc-http-api=["ETH","NET","WEB3","QBFT"]', "rpc-http-api"),
    ("config.toml", 'rpc-ws-host="127.0.0.1"', 'rpc-ws-host="0.0.0.0"', "rpc-ws-host"),
    ("config.toml", "rpc-ws-authentication-enabled=true", "rpc-ws-authentication-enabled=false", "rpc-ws-authentication-enabled"),
    ("config.toml", "permissions-accounts-config-file-enabled=true", "permissions-accounts-config-file-enabled=false", "permissions-accounts-config-file-enabled"),
    ("config.toml", "tx-pool-limit-by-account-percentage=0.15", "tx-pool-limit-by-account-percentage=1", "tx-pool-limit-by-account-percentage"),
    ("config.toml", "strict-tx-replay-protection-enabled=true", "strict-tx-replay-protection-enabled=false", "strict-tx-replay-protection-enabled"),
    ("config.toml", "metrics-enabled=true", "metrics-enabled=false", "metrics-enabled"),
    ("config.toml", 'logging="INFO"', 'logging="INFO"\nmetrics-host-allowlist=["*"]', "not an option this kit checked"),
    ("config.toml", '"127.0.0.1"]', '"*"]', "host-allowlist"),
    ("permissions_config.toml", "accounts-allowlist=[]", 'accounts-allowlist=["0x' + "11" * 20 + '"]', "differ"),
    ("static-nodes.json", "enode://", "enode://00", "static-nodes.json"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "text", "replacement", "named"), BROKEN_RULES)
def test_validate_refuses_each_rule_broken(
    kit: Path, validate: ModuleType, tmp_path: Path, file: str, text: str, replacement: str, named: str
) -> None:
    network = tmp_path / "network"
    shutil.copytree(kit, network)
    target = network / "validator-2" / file
    original = target.read_text(encoding="utf-8")
    assert text in original
    target.write_text(original.replace(text, replacement, 1), encoding="utf-8")
    problems = validate.check_network(network)
    assert any(named in problem for problem in problems), problems


def test_validate_refuses_a_key_others_can_read(kit: Path, validate: ModuleType, tmp_path: Path) -> None:
    network = tmp_path / "network"
    shutil.copytree(kit, network)
    (network / "validator-3" / "key").chmod(0o644)
    assert any("validator-3/key" in problem for problem in validate.check_network(network))


FAKE_BESU = """\
#!{python}
# Stands in for `besu`: records its arguments, answers as Besu 25.x does (validate-config prints
# its verdict and exits 0 either way; rlp decode prints the validators of an extraData).
import json, os, sys
import rlp
with open(os.environ["FAKE_BESU_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "validate-config":
    broken = os.environ.get("FAKE_BESU_BROKEN")
    print(broken or "TOML config file is valid on basic inspection. Further dependencies ...")
elif sys.argv[1:3] == ["rlp", "decode"]:
    _, validators, _, _, _ = rlp.decode(bytes.fromhex(sys.stdin.read().strip()[2:]))
    print(json.dumps(["0x" + bytes(v).hex() for v in validators]))
"""


@pytest.fixture
def fake_besu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    script = tmp_path / "besu"
    script.write_text(FAKE_BESU.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)
    log = tmp_path / "besu.log"
    monkeypatch.setenv("FAKE_BESU_LOG", str(log))
    return script, log


def test_validate_with_besu_runs_validate_config_and_decodes_the_extra_data(
    kit: Path, fake_besu: tuple[Path, Path]
) -> None:
    script, log = fake_besu
    result = subprocess.run(
        [sys.executable, str(VALIDATOR), "--network", str(kit), "--besu", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(with Besu)" in result.stdout
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    configs = [str((kit / name / "config.toml").resolve()) for name in _names()]
    assert calls == [["validate-config", f"--config-file={path}"] for path in configs] + [
        ["rlp", "decode", "--type=QBFT_EXTRA_DATA"]
    ]


def test_validate_with_besu_reads_the_verdict_not_the_exit_status(
    kit: Path, validate: ModuleType, fake_besu: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    script, _ = fake_besu
    monkeypatch.setenv(
        "FAKE_BESU_BROKEN", "picocli.CommandLine$ParameterException: Unknown option: 'metrics-host-allowlist'"
    )
    problems = validate.check_with_besu([str(script)], kit)
    assert len(problems) == VALIDATORS
    assert all("Unknown option" in problem for problem in problems)


def _validator_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if name.startswith("validator-")}


def test_compose_runs_validators_as_non_root_with_a_heap_cap_and_time_to_stop(
    compose: dict[str, Any],
) -> None:
    validators = _validator_services(compose)
    assert sorted(validators) == _names()
    for service in validators.values():
        assert re.fullmatch(r"hyperledger/besu:\d+\.\d+\.\d+", service["image"]), "pin an exact Besu version"
        # Not root, so the image's entrypoint executes Besu directly (not through su).
        user = _defaults(service["user"])
        assert user == "1000:1000"
        assert not user.startswith("0:")
        assert service["stop_grace_period"] == "60s"
        assert service["command"] == ["--config-file=/data/config.toml"]
        environment = service["environment"]
        assert re.fullmatch(r"-Xmx\d+[gm]", environment["BESU_OPTS"])
        # The image's 0.0.0.0 would put the admin endpoint on every network.
        assert environment["BESU_RPC_WS_HOST"] == "127.0.0.1"
        assert "ports" not in service  # nothing of a validator is published on the host


def test_compose_addresses_match_the_enodes_and_node_configurations(
    kit: Path, compose: dict[str, Any]
) -> None:
    validators = {v["name"]: v for v in _validators(kit)}
    for name, service in _validator_services(compose).items():
        config = _config(kit, name)
        index = name.removeprefix("validator-")
        networks = service["networks"]
        assert validators[name]["enode"].endswith(f"@{networks['chain']['ipv4_address']}:30303")
        assert networks[f"node-{index}"]["ipv4_address"] == config["rpc-http-host"]
        assert networks["monitoring"]["ipv4_address"] == config["metrics-host"]
        assert service["environment"]["BESU_RPC_HTTP_HOST"] == config["rpc-http-host"]
        assert f"./network/{name}:/data" in service["volumes"]
        assert "./network/genesis.json:/config/genesis.json:ro" in service["volumes"]
    for network in ("chain", "monitoring", *(f"node-{n}" for n in range(1, VALIDATORS + 1))):
        assert compose["networks"][network]["internal"] is True


def test_compose_file_wires_each_gateway_to_its_own_node(compose: dict[str, Any]) -> None:
    services = compose["services"]
    gateways = {name: s for name, s in services.items() if name.startswith("gateway-")}
    assert len(gateways) == 4
    for service in gateways.values():
        nodes = [n for n in service["networks"] if n.startswith("node-")]
        assert len(nodes) == 1
        assert "members" in service["networks"]
        assert "monitoring" not in service["networks"]  # the validators' metrics are not the gateways'
        assert list(service["depends_on"]) == [f"validator-{nodes[0].removeprefix('node-')}"]
        assert service["depends_on"][f"validator-{nodes[0].removeprefix('node-')}"] == {
            "condition": "service_healthy"
        }
        (secret,) = service["secrets"]
        assert secret in compose["secrets"]
        assert service["environment"]["CONFIRMNET_PASSPHRASE_FILE"] == f"/run/secrets/{secret}"
        assert (
            service["environment"]["CONFIRMNET_RPC_URL"]
            == f"http://validator-{nodes[0].removeprefix('node-')}:8545"
        )
        assert "./network/gateways:/config:ro" in service["volumes"]
        assert service["command"][-3:] == ["serve", "--config", "/data/gateway.toml"]
        assert all(port.startswith("127.0.0.1:") for port in service["ports"])


class _Readiness(BaseHTTPRequestHandler):
    """Besu's /readiness stand-in: answers the status the test sets, records the request."""

    status = 200
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Host", "")))
        body = json.dumps({"status": "UP" if self.status == 200 else "DOWN"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def readiness_server() -> Iterator[int]:
    _Readiness.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Readiness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.skipif(shutil.which("bash") is None, reason="the health check is a bash command")
def test_health_check_asks_readiness_by_peers_and_blocks_behind(
    compose: dict[str, Any], readiness_server: int
) -> None:
    checks = {json.dumps(s["healthcheck"]) for s in _validator_services(compose).values()}
    assert len(checks) == 1  # one check for all, reading each node's address from its environment
    healthcheck = next(iter(_validator_services(compose).values()))["healthcheck"]
    kind, shell, flag, command = healthcheck["test"]
    assert (kind, shell, flag) == ("CMD", "bash", "-c")
    assert "/tmp/pid" not in command
    script = command.replace("$$", "$")  # as compose hands it to the container
    environment = {
        **os.environ,
        "BESU_RPC_HTTP_HOST": "127.0.0.1",
        "BESU_RPC_HTTP_PORT": str(readiness_server),
    }

    def run() -> int:
        return subprocess.run(["bash", "-c", script], env=environment, timeout=10, check=False).returncode

    assert run() == 0
    path, host = _Readiness.seen[-1]
    assert path == "/readiness?minPeers=2&maxBlocksBehind=2"
    assert host == "127.0.0.1"  # in the validator's host-allowlist (its RPC address there)
    _Readiness.status = 503
    try:
        assert run() != 0
    finally:
        _Readiness.status = 200


def test_prometheus_and_alerts_cover_head_peers_rounds_disk_and_clock(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", services["prometheus"]["image"])
    assert all(p.startswith("127.0.0.1:") for p in services["prometheus"]["ports"])
    assert "monitoring" in services["prometheus"]["networks"]
    assert "monitoring" in services["node-exporter"]["networks"]
    prometheus = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    assert prometheus["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert {"besu", "node", "gateways"} <= set(jobs)
    gateway_targets = {t for group in jobs["gateways"]["static_configs"] for t in group["targets"]}
    assert gateway_targets == {f"{name}:8700" for name in services if name.startswith("gateway-")}
    rules = {
        rule["alert"]: rule["expr"]
        for group in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
    }
    assert "besu_blockchain_chain_head_timestamp" in rules["ChainHeadStale"]
    assert "ethereum_peer_count < 2" in rules["FewPeers"]
    assert "ethereum_blockchain_height" in rules["BlocksSlowerThanPeriod"]
    # Written for generate.py's default block period.
    assert f"300 / {_load(GENERATOR).DEFAULT_BLOCK_PERIOD})" in rules["BlocksSlowerThanPeriod"]
    assert "predict_linear(node_filesystem_avail_bytes" in rules["DiskFillsWithinAWeek"]
    assert "node_filesystem_avail_bytes" in rules["DiskAlmostFull"]
    assert "node_timex_sync_status" in rules["ClockNotSynchronised"]
    assert 'up{job="besu"}' in rules["ValidatorDown"]


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    def decode(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    header, claims, signature = token.split(".")
    return (
        json.loads(decode(header)),
        json.loads(decode(claims)),
        f"{header}.{claims}".encode(),
        decode(signature),
    )


def _verify(token: str, public_key_pem: bytes) -> dict[str, Any]:
    header, claims, signed, signature = _jwt_parts(token)
    assert header == {"alg": "RS256", "typ": "JWT"}
    key = serialization.load_pem_public_key(public_key_pem)
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    return claims


def test_admin_token_allows_one_method_for_a_minute_and_verifies_with_the_node_key(kit: Path) -> None:
    admin_rpc = _load(ADMIN_RPC)
    token = admin_rpc.token(
        (kit / "admin" / "validator-1.pem").read_bytes(), ["qbft_proposeValidatorVote"], now=1_700_000_000
    )
    claims = _verify(token, (kit / "validator-1" / "rpc-admin.pub.pem").read_bytes())
    assert claims == {
        "permissions": ["qbft:proposeValidatorVote"],
        "iat": 1_700_000_000,
        "exp": 1_700_000_060,
    }
    with pytest.raises(InvalidSignature):  # another validator's key does not open it
        _verify(token, (kit / "validator-2" / "rpc-admin.pub.pem").read_bytes())
    assert admin_rpc.permission("perm_addAccountsToAllowlist") == "perm:addAccountsToAllowlist"
    with pytest.raises(ValueError, match="not a JSON-RPC method name"):
        admin_rpc.permission("noUnderscore")


@pytest.fixture
def admin_endpoint(kit: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for Besu's authenticated WebSocket: the token from the handshake's Authorization
    header, verified with validator-1's public key, must permit the method called."""
    public_key = (kit / "validator-1" / "rpc-admin.pub.pem").read_bytes()
    requests: list[dict[str, Any]] = []

    def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        authorization = connection.request.headers.get("Authorization", "")
        request = json.loads(connection.recv())
        requests.append(request)
        try:
            claims = _verify(authorization.removeprefix("Bearer "), public_key)
            group, _, name = request["method"].partition("_")
            permitted = f"{group}:{name}" in claims["permissions"] and claims["exp"] > time.time()
        except (AssertionError, ValueError, InvalidSignature):
            permitted = False
        if permitted:
            answer = {"jsonrpc": "2.0", "id": request["id"], "result": ["0x" + "ab" * 20]}
        else:
            answer = {
                "jsonrpc": "2.0",
                "id": request["id"],
                "error": {"code": -40100, "message": "Unauthorized"},
            }
        connection.send(json.dumps(answer))

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}", requests
        server.shutdown()
        thread.join()


def test_admin_call_is_authorised_for_its_method_only(
    kit: Path, admin_endpoint: tuple[str, list[dict[str, Any]]]
) -> None:
    admin_rpc = _load(ADMIN_RPC)
    url, requests = admin_endpoint
    key = (kit / "admin" / "validator-1.pem").read_bytes()
    method = "qbft_getValidatorsByBlockNumber"
    bearer = admin_rpc.token(key, [method], now=int(time.time()))
    assert admin_rpc.call(url, bearer, method, ["latest"]) == ["0x" + "ab" * 20]
    assert requests[-1] == {"jsonrpc": "2.0", "id": 1, "method": method, "params": ["latest"]}
    with pytest.raises(admin_rpc.AdminCallFailed, match="Unauthorized"):
        admin_rpc.call(url, bearer, "qbft_proposeValidatorVote", ["0x" + "cd" * 20, True])
    other = admin_rpc.token((kit / "admin" / "validator-2.pem").read_bytes(), [method], now=int(time.time()))
    with pytest.raises(admin_rpc.AdminCallFailed, match="Unauthorized"):
        admin_rpc.call(url, other, method, ["latest"])


def test_admin_cli_prints_the_result(kit: Path, admin_endpoint: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = admin_endpoint
    command = [sys.executable, str(ADMIN_RPC), "--key", str(kit / "admin" / "validator-1.pem"),
               "--url", url, "perm_getAccountsAllowlist"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["0x" + "ab" * 20]


@pytest.mark.anvil
def test_operator_deploys_with_its_gateway_key_on_a_zero_fee_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 4 of the guide on anvil (zero base fee and gas price) standing in for Besu."""
    monkeypatch.setenv("CONFIRMNET_PASSPHRASE", "operator-test-passphrase-7")
    init = CliRunner().invoke(app, ["gateway", "init", "--role", "operator", "--name", "Consortium Operator",
                                    "--registration-code", "91110000MA01OPER1X", "--data-dir", str(tmp_path / "op"),
                                    "--network-file", str(tmp_path / "network.json")])  # fmt: skip
    assert init.exit_code == 0, init.output
    config, out = tmp_path / "op" / "gateway.toml", tmp_path / "network.json"
    keys = load_keys(tmp_path / "op" / "keys", "operator-test-passphrase-7")
    with AnvilNode() as anvil:

        def deploy(*extra: str) -> int:
            done = CliRunner().invoke(
                app,
                [
                    "network",
                    "deploy",
                    "--config",
                    str(config),
                    "--rpc-url",
                    anvil.rpc_url,
                    "--out",
                    str(out),
                    *extra,
                ],
            )
            return done.exit_code

        assert deploy("--chain-id", "1") == 2  # anvil is chain 31337
        assert not out.exists()
        assert deploy("--peer-endpoints", "anywhere") == 2
        assert deploy("--chain-id", "31337", "--peer-endpoints", "private") == 0
        assert NetworkFile.load(out).peer_endpoints is EndpointPolicy.PRIVATE
        w3 = connect(anvil.rpc_url)
        operator = Network.attach(w3, NetworkFile.load(out)).members.get_member(1)
        assert operator.account == keys.chain_account.address
        assert operator.role is Role.OPERATOR
        assert operator.display_name == "Consortium Operator"
        assert w3.eth.get_balance(operator.account) == 0  # free gas: deployed without funds
        assert deploy() == 2  # never twice


# A QBFT block as Besu 25.6.0 returns it: extraData holds the validators, the round and the seals;
# with Shanghai active, QBFT blocks before 26.1 carry no withdrawals (nor their root).
SEALED_EXTRA_DATA = rlp.encode(
    [bytes(32), [bytes([n]) * 20 for n in range(1, 5)], [], 1, [bytes([7]) * 65 for _ in range(3)]]
)
QBFT_BLOCK: dict[str, Any] = {
    "number": "0x2a",
    "hash": "0x" + "ab" * 32,
    "parentHash": "0x" + "cd" * 32,
    "mixHash": QBFT_MIX_HASH,
    "nonce": "0x0000000000000000",
    "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
    "logsBloom": "0x" + "00" * 256,
    "transactionsRoot": "0x" + "11" * 32,
    "stateRoot": "0x" + "22" * 32,
    "receiptsRoot": "0x" + "33" * 32,
    "miner": "0x" + "01" * 20,
    "difficulty": "0x1",
    "totalDifficulty": "0x2b",
    "extraData": "0x" + SEALED_EXTRA_DATA.hex(),
    "size": "0x2f0",
    "gasLimit": "0x5f5e100",
    "gasUsed": "0x0",
    "timestamp": "0x6700c0de",
    "uncles": [],
    "transactions": [],
    "baseFeePerGas": "0x0",
    "blobGasUsed": "0x0",
    "excessBlobGas": "0x0",
    "parentBeaconBlockRoot": "0x" + "00" * 32,
}


class _QbftNode(BaseHTTPRequestHandler):
    """Answers eth_getBlockByNumber with a QBFT block, like a Besu validator's JSON-RPC."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results = {"eth_getBlockByNumber": QBFT_BLOCK, "eth_chainId": hex(CHAIN_ID)}
        if request["method"] in results:
            answer = {"jsonrpc": "2.0", "id": request["id"], "result": results[request["method"]]}
        else:
            answer = {
                "jsonrpc": "2.0",
                "id": request["id"],
                "error": {"code": -32601, "message": "Method not found"},
            }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def qbft_node() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _QbftNode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_gateway_client_reads_qbft_blocks(qbft_node: str) -> None:
    assert len(SEALED_EXTRA_DATA) > 97  # far beyond the 32 bytes of an Ethereum mainnet header
    block = connect(qbft_node).eth.get_block("latest")
    assert block["number"] == 42
    assert block["proofOfAuthorityData"] == HexBytes(SEALED_EXTRA_DATA)
    assert "extraData" not in block
    assert block["baseFeePerGas"] == 0
    assert "withdrawals" not in block
    _, validators, _, _, seals = rlp.decode(block["proofOfAuthorityData"])
    assert len(validators) == 4
    assert len(seals) == 3
    # Without the middleware that connect() adds, web3 refuses such a block.
    with pytest.raises(ExtraDataLengthError):
        Web3(Web3.HTTPProvider(qbft_node)).eth.get_block("latest")
