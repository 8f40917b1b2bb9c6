// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {IConfirmationRegistry} from "./IConfirmationRegistry.sol";
import {IMemberRegistry} from "./IMemberRegistry.sol";

/**
 * @title ConfirmationRegistry
 * @notice One record per confirmation letter and the state machine it moves through.
 * See {IConfirmationRegistry}.
 * @dev Every transition passes one guard, {_requireStatus}, that names the allowed states.
 * Multicall lets a gateway put many steps into one transaction; msg.sender is kept.
 * Mandates are kept under the signer's id, the keccak256 of its ERC-7913 bytes, and signatures
 * are checked by OpenZeppelin's {SignatureChecker} (ECDSA, ERC-1271 or an ERC-7913 verifier).
 */
contract ConfirmationRegistry is IConfirmationRegistry, EIP712, Multicall {
    bytes32 private constant _AUTHORISATION_TYPEHASH =
        keccak256("Authorisation(bytes32 requestsRoot,uint32 firm,uint64 validUntil,uint256 nonce)");
    bytes32 private constant _REFUSAL_TYPEHASH =
        keccak256("Refusal(bytes32 requestsRoot,uint32 firm,uint16 reason,uint64 validUntil,uint256 nonce)");

    bytes32 private constant _AWAITING_BANK = bytes32(
        (1 << uint8(Status.Requested)) | (1 << uint8(Status.Authorised)) | (1 << uint8(Status.Accepted))
    );

    IMemberRegistry private immutable _memberRegistry;
    mapping(bytes32 letterId => Letter) private _letters;
    mapping(uint32 bank => mapping(bytes32 auditeeRef => mapping(bytes32 signerId => uint64 validUntil))) private
        _mandates;

    /// @notice Deploys the registry against the consortium's member registry.
    constructor(IMemberRegistry registry) EIP712("confirmnet ConfirmationRegistry", "1") {
        _memberRegistry = registry;
    }

    /// @inheritdoc IConfirmationRegistry
    function request(bytes32 letterId, uint32 bank, bytes32 letterHash, uint64 dueAt) external {
        uint32 firm = _memberRegistry.requireActiveAccount(msg.sender, IMemberRegistry.Role.AuditFirm);
        _memberRegistry.requireActiveMember(bank, IMemberRegistry.Role.Bank);
        Letter storage letter = _letters[letterId];
        _requireStatus(letterId, letter.status, _encode(Status.None));
        if (dueAt <= block.timestamp || letterHash == bytes32(0)) {
            revert ConfirmationInvalidRequest(letterId);
        }
        letter.status = Status.Requested;
        letter.firm = firm;
        letter.bank = bank;
        letter.dueAt = dueAt;
        letter.letterHash = letterHash;
        emit LetterRequested(letterId, firm, bank, letterHash, dueAt);
    }

    /// @inheritdoc IConfirmationRegistry
    function authorise(
        bytes32 letterId,
        Authorisation calldata auth,
        bytes32 auditeeRef,
        bytes calldata signer,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external {
        Letter storage letter = _existingLetter(letterId);
        _checkCoverage(letterId, letter, auth.requestsRoot, auth.firm, auth.validUntil, proof);
        bytes32 signerId = _checkAuditeeSignature(
            letterId, letter, auditeeRef, _hashTypedDataV4(_authorisationStructHash(auth)), signer, signature
        );
        letter.status = Status.Authorised;
        letter.auditeeRef = auditeeRef;
        emit LetterAuthorised(letterId, letter.firm, letter.bank, auditeeRef, signerId, auth.requestsRoot);
    }

    /// @inheritdoc IConfirmationRegistry
    function refuseAuthorisation(
        bytes32 letterId,
        Refusal calldata refusal,
        bytes32 auditeeRef,
        bytes calldata signer,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external {
        Letter storage letter = _existingLetter(letterId);
        _checkCoverage(letterId, letter, refusal.requestsRoot, refusal.firm, refusal.validUntil, proof);
        bytes32 signerId = _checkAuditeeSignature(
            letterId, letter, auditeeRef, _hashTypedDataV4(_refusalStructHash(refusal)), signer, signature
        );
        letter.status = Status.Refused;
        letter.auditeeRef = auditeeRef;
        emit AuthorisationRefused(letterId, letter.firm, letter.bank, auditeeRef, signerId, refusal.reason);
    }

    /// @inheritdoc IConfirmationRegistry
    function accept(bytes32 letterId) external {
        Letter storage letter = _letterOfCallingBank(letterId, _encode(Status.Authorised));
        letter.status = Status.Accepted;
        emit LetterAccepted(letterId, letter.firm, letter.bank);
    }

    /// @inheritdoc IConfirmationRegistry
    function reject(bytes32 letterId, uint16 reason) external {
        Letter storage letter = _letterOfCallingBank(letterId, _encode(Status.Authorised));
        letter.status = Status.Rejected;
        emit LetterRejected(letterId, letter.firm, letter.bank, reason);
    }

    /// @inheritdoc IConfirmationRegistry
    function reply(bytes32 letterId, bytes32 replyHash) external {
        Letter storage letter = _letterOfCallingBank(letterId, _encode(Status.Accepted));
        if (replyHash == bytes32(0)) revert ConfirmationInvalidRequest(letterId);
        letter.status = Status.Replied;
        letter.replyHash = replyHash;
        emit LetterReplied(letterId, letter.firm, letter.bank, replyHash);
    }

    /// @inheritdoc IConfirmationRegistry
    function close(bytes32 letterId) external {
        Letter storage letter = _letterOfCallingFirm(letterId, _encode(Status.Replied));
        letter.status = Status.Closed;
        emit LetterClosed(letterId, letter.firm, letter.bank);
    }

    /// @inheritdoc IConfirmationRegistry
    function withdraw(bytes32 letterId) external {
        Letter storage letter = _letterOfCallingFirm(letterId, _AWAITING_BANK);
        letter.status = Status.Withdrawn;
        emit LetterWithdrawn(letterId, letter.firm, letter.bank);
    }

    /// @inheritdoc IConfirmationRegistry
    function followUp(bytes32 letterId) external {
        Letter storage letter = _letterOfCallingFirm(letterId, _AWAITING_BANK);
        emit LetterFollowedUp(letterId, letter.firm, letter.bank);
    }

    /// @inheritdoc IConfirmationRegistry
    function registerMandate(bytes32 auditeeRef, bytes calldata signer, uint64 validUntil) external {
        uint32 bank = _memberRegistry.requireActiveAccount(msg.sender, IMemberRegistry.Role.Bank);
        // A key needs a verifier contract: with none at its address no signature could ever verify.
        if (
            signer.length < 20 || bytes20(signer[:20]) == bytes20(0)
                || (signer.length > 20 && address(bytes20(signer[:20])).code.length == 0)
                || validUntil <= block.timestamp
        ) revert ConfirmationInvalidMandate(signer);
        bytes32 signerId = keccak256(signer);
        _mandates[bank][auditeeRef][signerId] = validUntil;
        emit MandateRegistered(bank, auditeeRef, signerId, validUntil);
    }

    /// @inheritdoc IConfirmationRegistry
    function revokeMandate(bytes32 auditeeRef, bytes calldata signer) external {
        uint32 bank = _memberRegistry.requireActiveAccount(msg.sender, IMemberRegistry.Role.Bank);
        bytes32 signerId = keccak256(signer);
        delete _mandates[bank][auditeeRef][signerId];
        emit MandateRevoked(bank, auditeeRef, signerId);
    }

    /// @inheritdoc IConfirmationRegistry
    function memberRegistry() external view returns (IMemberRegistry) {
        return _memberRegistry;
    }

    /// @inheritdoc IConfirmationRegistry
    function getLetter(bytes32 letterId) external view returns (Letter memory) {
        return _letters[letterId];
    }

    /// @inheritdoc IConfirmationRegistry
    function isOverdue(bytes32 letterId) external view returns (bool) {
        Letter storage letter = _letters[letterId];
        return _encode(letter.status) & _AWAITING_BANK != 0 && block.timestamp > letter.dueAt;
    }

    /// @inheritdoc IConfirmationRegistry
    function mandateValidUntil(uint32 bank, bytes32 auditeeRef, bytes calldata signer)
        external
        view
        returns (uint64)
    {
        return _mandates[bank][auditeeRef][keccak256(signer)];
    }

    /// @inheritdoc IConfirmationRegistry
    function isValidAuditeeSignature(bytes calldata signer, bytes32 digest, bytes calldata signature)
        external
        view
        returns (bool)
    {
        return SignatureChecker.isValidSignatureNow(signer, digest, signature);
    }

    /// @inheritdoc IConfirmationRegistry
    function authorisationLeaf(bytes32 letterId, bytes32 letterHash, uint32 bank) public pure returns (bytes32) {
        // Hashed twice so that a leaf can never be mistaken for an inner node of the tree.
        return keccak256(bytes.concat(keccak256(abi.encode(letterId, letterHash, bank))));
    }

    /// @inheritdoc IConfirmationRegistry
    function authorisationDigest(Authorisation calldata auth) external view returns (bytes32) {
        return _hashTypedDataV4(_authorisationStructHash(auth));
    }

    /// @inheritdoc IConfirmationRegistry
    function refusalDigest(Refusal calldata refusal) external view returns (bytes32) {
        return _hashTypedDataV4(_refusalStructHash(refusal));
    }

    function _authorisationStructHash(Authorisation calldata auth) private pure returns (bytes32) {
        return keccak256(abi.encode(_AUTHORISATION_TYPEHASH, auth.requestsRoot, auth.firm, auth.validUntil, auth.nonce));
    }

    function _refusalStructHash(Refusal calldata refusal) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                _REFUSAL_TYPEHASH, refusal.requestsRoot, refusal.firm, refusal.reason, refusal.validUntil, refusal.nonce
            )
        );
    }

    /// @dev What an authorisation and a refusal check before their signature: the letter awaits the
    /// auditee, the signed firm is its firm, the signature is not expired, the root covers the letter.
    function _checkCoverage(
        bytes32 letterId,
        Letter storage letter,
        bytes32 requestsRoot,
        uint32 firm,
        uint64 validUntil,
        bytes32[] calldata proof
    ) private view {
        _requireStatus(letterId, letter.status, _encode(Status.Requested));
        if (firm != letter.firm) revert ConfirmationAuthorisationWrongFirm(letterId, firm);
        if (block.timestamp > validUntil) revert ConfirmationAuthorisationExpired(validUntil);
        bytes32 leaf = authorisationLeaf(letterId, letter.letterHash, letter.bank);
        if (!MerkleProof.verifyCalldata(proof, requestsRoot, leaf)) {
            revert ConfirmationAuthorisationNotCovering(letterId);
        }
    }

    /// @dev The signer holds the bank's unexpired mandate for the (non-zero) auditee reference the
    /// relayer supplies (read first: it is one storage read, a verifier call may cost far more) and
    /// signed `digest`; returns its id. A bank never mandates under the zero reference on purpose,
    /// so a zero one is refused outright rather than looked up.
    function _checkAuditeeSignature(
        bytes32 letterId,
        Letter storage letter,
        bytes32 auditeeRef,
        bytes32 digest,
        bytes calldata signer,
        bytes calldata signature
    ) private view returns (bytes32 signerId) {
        signerId = keccak256(signer);
        if (auditeeRef == bytes32(0) || _mandates[letter.bank][auditeeRef][signerId] < block.timestamp) {
            revert ConfirmationSignerNotMandated(letterId, signerId);
        }
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) revert ConfirmationInvalidSignature();
    }

    function _letterOfCallingBank(bytes32 letterId, bytes32 allowed) private view returns (Letter storage letter) {
        uint32 caller = _memberRegistry.requireActiveAccount(msg.sender, IMemberRegistry.Role.Bank);
        letter = _existingLetter(letterId);
        if (letter.bank != caller) revert ConfirmationNotAddressedBank(letterId, msg.sender);
        _requireStatus(letterId, letter.status, allowed);
    }

    function _letterOfCallingFirm(bytes32 letterId, bytes32 allowed) private view returns (Letter storage letter) {
        uint32 caller = _memberRegistry.requireActiveAccount(msg.sender, IMemberRegistry.Role.AuditFirm);
        letter = _existingLetter(letterId);
        if (letter.firm != caller) revert ConfirmationNotRequestingFirm(letterId, msg.sender);
        _requireStatus(letterId, letter.status, allowed);
    }

    function _existingLetter(bytes32 letterId) private view returns (Letter storage letter) {
        letter = _letters[letterId];
        if (letter.status == Status.None) revert ConfirmationUnknownLetter(letterId);
    }

    /// @dev The one transition guard: reverts unless `current` is among the `allowed` states.
    function _requireStatus(bytes32 letterId, Status current, bytes32 allowed) private pure {
        if (_encode(current) & allowed == 0) revert ConfirmationUnexpectedStatus(letterId, current, allowed);
    }

    /// @dev The bitmap of a single state, as in {ConfirmationUnexpectedStatus}.
    function _encode(Status status) private pure returns (bytes32) {
        return bytes32(1 << uint8(status));
    }
}
