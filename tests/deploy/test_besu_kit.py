"""deploy/besu: the QBFT network that generate.py writes, the compose file, and QBFT blocks.

Besu itself is not run here (no container engine): these tests check what can be checked without
it. The genesis activates exactly the forks of the contracts' pinned evmVersion with free gas; its
extraData names exactly the validators whose keys were written; the allowlists, static nodes and
node configurations agree with those keys and with the addresses in docker-compose.yml; keys are
private; the operator's deploy step works with its gateway's key on a zero-fee chain (anvil); and the
gateway's web3 client reads a block with QBFT's long extraData.
"""

from __future__ import annotations

import importlib.util
import json
import re
import stat
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import rlp  # type: ignore[import-untyped]
import yaml
from coincurve import PrivateKey
from eth_account import Account
from hexbytes import HexBytes
from typer.testing import CliRunner
from web3 import Web3
from web3.exceptions import ExtraDataLengthError

from confirmnet.cli import app
from node_gateway.chain.contracts import Role
from node_gateway.chain.devnet import AnvilNode
from node_gateway.chain.network import EndpointPolicy, Network, NetworkFile, connect
from node_gateway.core.keys import load_keys

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "deploy" / "besu"
GENERATOR = KIT / "generate.py"
COMPOSE = KIT / "docker-compose.yml"
BUILD_INFO = ROOT / "contracts" / "build" / "build-info.json"

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
    assert int(genesis["gasLimit"], 16) >= 30_000_000
    # The default contract size limit applies: the contracts fit in it.
    assert "contractSizeLimit" not in config
    for name in ("MemberRegistry", "ConfirmationRegistry"):
        artifact = json.loads((ROOT / "contracts" / "build" / f"{name}.json").read_text(encoding="utf-8"))
        assert len(HexBytes(artifact["deployedBytecode"])) < DEFAULT_CONTRACT_SIZE_LIMIT


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


def test_allowlists_and_static_nodes_are_the_enodes_of_the_keys(kit: Path) -> None:
    enodes = {
        name: f"enode://{_public_key(_private_key(kit, name))}@172.30.0.{10 + index}:30303"
        for index, name in enumerate(_names(), start=1)
    }
    assert [v["enode"] for v in _validators(kit)] == list(enodes.values())
    for name in _names():
        permissions = tomllib.loads((kit / name / "permissions_config.toml").read_text(encoding="utf-8"))
        assert permissions == {"nodes-allowlist": list(enodes.values())}
        static = json.loads((kit / name / "static-nodes.json").read_text(encoding="utf-8"))
        assert static == [enode for other, enode in enodes.items() if other != name]


def test_node_keys_are_private_and_in_besu_format(kit: Path) -> None:
    for name in _names():
        key_file = kit / name / "key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert re.fullmatch(r"0x[0-9a-f]{64}", key_file.read_text(encoding="utf-8"))
        assert stat.S_IMODE((kit / name).stat().st_mode) == 0o700
    keys = {_private_key(kit, name) for name in _names()}
    assert len(keys) == VALIDATORS


def test_node_configurations_are_permissioned_free_gas_and_consistent(kit: Path) -> None:
    for index, name in enumerate(_names(), start=1):
        config = tomllib.loads((kit / name / "config.toml").read_text(encoding="utf-8"))
        assert config["data-path"] == "/data"
        assert config["node-private-key-file"] == "/data/key"
        assert config["genesis-file"] == "/config/genesis.json"
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-nodes-config-file"] == "/data/permissions_config.toml"
        assert config["static-nodes-file"] == "/data/static-nodes.json"
        assert config["discovery-enabled"] is False
        assert config["p2p-host"] == config["p2p-interface"] == f"172.30.0.{10 + index}"
        assert config["p2p-port"] == 30303
        assert config["rpc-http-enabled"] is True
        assert config["rpc-http-host"] == f"172.30.{10 + index}.11"
        assert set(config["rpc-http-api"]) == {"ETH", "NET", "WEB3", "QBFT"}
        assert config["host-allowlist"] == [name, config["rpc-http-host"]]
        assert config["min-gas-price"] == 0
        assert config["tx-pool-min-gas-price"] == 0
        assert config["revert-reason-enabled"] is True
        assert config["sync-mode"] == "FULL"


def test_generator_never_overwrites_a_network(kit: Path) -> None:
    before = _private_key(kit, "validator-1")
    result = _generate(kit)
    assert result.returncode == 1
    assert "already holds a network" in result.stderr
    assert _private_key(kit, "validator-1") == before


def test_generated_files_and_secrets_are_ignored_by_git() -> None:
    for path in (
        "deploy/besu/network/validator-1/key",
        "deploy/besu/secrets/bank.passphrase",
        "deploy/besu/.env",
    ):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert result.returncode == 0, f"{path} is not ignored by git"


def _compose_services(text: str) -> dict[str, list[str]]:
    """The lines of each service of the compose file (a line scan, not a YAML parser)."""
    services: dict[str, list[str]] = {}
    current: str | None = None
    in_services = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            in_services, current = line.rstrip() == "services:", None
        elif in_services and (match := re.fullmatch(r" {2}([\w.-]+):\s*", line)):
            current = match.group(1)
            services[current] = []
        elif current is not None:
            services[current].append(line)
    return services


def _service_addresses(lines: list[str]) -> dict[str, str]:
    addresses: dict[str, str] = {}
    network: str | None = None
    for line in lines:
        if match := re.fullmatch(r"\s+([\w.-]+):\s*", line):
            network = match.group(1)
        elif (match := re.fullmatch(r"\s+ipv4_address:\s*(\S+)\s*", line)) and network:
            addresses[network] = match.group(1)
    return addresses


def test_compose_addresses_match_the_enodes_and_node_configurations(kit: Path) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert "\t" not in text
    assert re.search(r"image: hyperledger/besu:\d+\.\d+\.\d+\n", text), "pin an exact Besu version"
    services = _compose_services(text)
    validators = {v["name"]: v for v in _validators(kit)}
    assert sorted(name for name in services if name.startswith("validator-")) == sorted(validators)
    for name, validator in validators.items():
        lines = services[name]
        config = tomllib.loads((kit / name / "config.toml").read_text(encoding="utf-8"))
        addresses = _service_addresses(lines)
        index = name.removeprefix("validator-")
        assert validator["enode"].endswith(f"@{addresses['chain']}:30303")
        assert addresses[f"node-{index}"] == config["rpc-http-host"]
        assert f"      BESU_RPC_HTTP_HOST: {config['rpc-http-host']}" in lines
        assert f"      - ./network/{name}:/data" in lines


def test_compose_file_parses_and_wires_each_gateway_to_its_own_node() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    gateways = {name: s for name, s in services.items() if name.startswith("gateway-")}
    assert len(gateways) == 4
    for service in gateways.values():
        nodes = [n for n in service["networks"] if n.startswith("node-")]
        assert len(nodes) == 1
        assert "members" in service["networks"]
        assert list(service["depends_on"]) == [f"validator-{nodes[0].removeprefix('node-')}"]
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
    assert compose["networks"]["chain"]["internal"] is True


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


# A QBFT block as Besu returns it: extraData holds the validators, the round and the seals.
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
    "withdrawalsRoot": "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    "withdrawals": [],
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
    _, validators, _, _, seals = rlp.decode(block["proofOfAuthorityData"])
    assert len(validators) == 4
    assert len(seals) == 3
    # Without the middleware that connect() adds, web3 refuses such a block.
    with pytest.raises(ExtraDataLengthError):
        Web3(Web3.HTTPProvider(qbft_node)).eth.get_block("latest")
