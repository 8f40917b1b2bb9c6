// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title TestMultisig
 * @notice A minimal k-of-n ERC-1271 account, for tests and the demo only: a company's multisig
 * as an auditee signer. Not a wallet: it holds and moves nothing.
 * @dev A signature is `threshold` 65-byte ECDSA signatures over the hash itself, by distinct
 * owners in strictly increasing address order.
 */
contract TestMultisig is IERC1271 {
    mapping(address account => bool) private _owners;
    uint256 private immutable _threshold;

    /// @notice Thrown when the owners or the threshold make no k-of-n account.
    error TestMultisigInvalidOwners();

    /// @notice An account of `owners` that needs `threshold` of their signatures.
    constructor(address[] memory owners, uint256 threshold) {
        if (threshold == 0 || threshold > owners.length) revert TestMultisigInvalidOwners();
        for (uint256 i = 0; i < owners.length; ++i) {
            if (owners[i] == address(0) || _owners[owners[i]]) revert TestMultisigInvalidOwners();
            _owners[owners[i]] = true;
        }
        _threshold = threshold;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65 * _threshold) return 0xffffffff;
        address last = address(0);
        for (uint256 i = 0; i < _threshold; ++i) {
            (address owner, ECDSA.RecoverError error,) =
                ECDSA.tryRecoverCalldata(hash, signature[65 * i:65 * (i + 1)]);
            if (error != ECDSA.RecoverError.NoError || owner <= last || !_owners[owner]) return 0xffffffff;
            last = owner;
        }
        return IERC1271.isValidSignature.selector;
    }
}
