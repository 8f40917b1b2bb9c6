// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IMemberRegistry} from "./IMemberRegistry.sol";

/**
 * @title IConfirmationRegistry
 * @notice The process of every bank confirmation letter: request, authorisation by the auditee,
 * acceptance or rejection by the bank, reply, close, and the firm's follow-ups and withdrawal.
 * @dev Only salted hashes and the process are recorded; the letters travel off chain. Letters
 * refer to members by their number in the {IMemberRegistry}. `Overdue` is never stored: a letter
 * is overdue when it awaits the bank past its due time (see {isOverdue}).
 *
 * The auditee's signers are ERC-7913 keys (`bytes signer`): 20 bytes are an account, an EOA
 * checked by ECDSA or a contract account (e.g. a company's multisig) checked by ERC-1271; longer
 * ones are a verifier contract's address followed by a key it checks (a P-256 or WebAuthn passkey
 * key, an RSA key). Mandates and events name a signer by its id, `keccak256(signer)`.
 */
interface IConfirmationRegistry {
    /// @notice The stored state of a letter. `Refused` means the auditee refused to authorise it.
    enum Status {
        None,
        Requested,
        Authorised,
        Accepted,
        Rejected,
        Replied,
        Closed,
        Withdrawn,
        Refused
    }

    /// @notice The record of one letter. `auditeeRef` is zero until the letter is authorised or
    /// refused: the reference under which the bank mandated the signer who did.
    struct Letter {
        Status status;
        uint32 firm;
        uint32 bank;
        uint64 dueAt;
        bytes32 auditeeRef;
        bytes32 letterHash;
        bytes32 replyHash;
    }

    /**
     * @notice What the auditee's mandated signer signs (EIP-712) to authorise letters.
     * @dev `requestsRoot` is the Merkle root over the leaves of the letters it covers (see
     * {authorisationLeaf}); a single letter's root is its leaf. Each leaf binds the letter id, its
     * hash and the bank, so one signature can cover letters to several banks. The auditee reference
     * is not in the leaf: the relayer supplies it, the contract checks the signer's mandate for it
     * and the bank checks on arrival that the letter's auditee is the customer it commits to.
     */
    struct Authorisation {
        bytes32 requestsRoot;
        uint32 firm;
        uint64 validUntil;
        uint256 nonce;
    }

    /// @notice What the auditee's mandated signer signs (EIP-712) to refuse letters, with a reason code.
    struct Refusal {
        bytes32 requestsRoot;
        uint32 firm;
        uint16 reason;
        uint64 validUntil;
        uint256 nonce;
    }

    /// @notice Thrown when letter `letterId` is in `current` and the action needs one of the states
    /// set in the bitmap `expectedStates` (bit `i` for `Status(i)`).
    error ConfirmationUnexpectedStatus(bytes32 letterId, Status current, bytes32 expectedStates);

    /// @notice Thrown when no letter `letterId` exists.
    error ConfirmationUnknownLetter(bytes32 letterId);

    /// @notice Thrown when `account` acts on a letter that its member did not request.
    error ConfirmationNotRequestingFirm(bytes32 letterId, address account);

    /// @notice Thrown when `account` acts on a letter not addressed to its member.
    error ConfirmationNotAddressedBank(bytes32 letterId, address account);

    /// @notice Thrown when a request's due time is not in the future or its hashes are zero.
    error ConfirmationInvalidRequest(bytes32 letterId);

    /// @notice Thrown when an authorisation or refusal is used after `validUntil`.
    error ConfirmationAuthorisationExpired(uint64 validUntil);

    /// @notice Thrown when an authorisation or refusal names another firm than the letter's.
    error ConfirmationAuthorisationWrongFirm(bytes32 letterId, uint32 firm);

    /// @notice Thrown when the letter's leaf is not under the signed requests root.
    error ConfirmationAuthorisationNotCovering(bytes32 letterId);

    /// @notice Thrown when the signature is not the mandated signer's over the signed digest.
    error ConfirmationInvalidSignature();

    /// @notice Thrown when the signer with id `signerId` holds no valid mandate of the letter's bank
    /// for the auditee reference supplied (or that reference is zero).
    error ConfirmationSignerNotMandated(bytes32 letterId, bytes32 signerId);

    /// @notice Thrown when a mandate names no signer (shorter than 20 bytes, the zero address, a
    /// verifier address without code) or an expiry in the past.
    error ConfirmationInvalidMandate(bytes signer);

    /// @notice Emitted when an audit firm requests a letter.
    event LetterRequested(
        bytes32 indexed letterId,
        uint32 indexed firm,
        uint32 indexed bank,
        bytes32 letterHash,
        uint64 dueAt
    );

    /// @notice Emitted when the auditee's signer (`signerId`, the keccak256 of its ERC-7913 bytes),
    /// mandated by the bank for its customer `auditeeRef`, authorises a letter.
    event LetterAuthorised(
        bytes32 indexed letterId,
        uint32 indexed firm,
        uint32 indexed bank,
        bytes32 auditeeRef,
        bytes32 signerId,
        bytes32 requestsRoot
    );

    /// @notice Emitted when the auditee's signer (`signerId`), mandated for `auditeeRef`, refuses to
    /// authorise a letter.
    event AuthorisationRefused(
        bytes32 indexed letterId,
        uint32 indexed firm,
        uint32 indexed bank,
        bytes32 auditeeRef,
        bytes32 signerId,
        uint16 reason
    );

    /// @notice Emitted when the bank has received the letter intact and compliant.
    event LetterAccepted(bytes32 indexed letterId, uint32 indexed firm, uint32 indexed bank);

    /// @notice Emitted when the bank rejects the letter as not compliant.
    event LetterRejected(bytes32 indexed letterId, uint32 indexed firm, uint32 indexed bank, uint16 reason);

    /// @notice Emitted when the bank records its reply.
    event LetterReplied(bytes32 indexed letterId, uint32 indexed firm, uint32 indexed bank, bytes32 replyHash);

    /// @notice Emitted when the firm closes the letter after checking the reply.
    event LetterClosed(bytes32 indexed letterId, uint32 indexed firm, uint32 indexed bank);

    /// @notice Emitted when the firm withdraws the letter before the reply.
    event LetterWithdrawn(bytes32 indexed letterId, uint32 indexed firm, uint32 indexed bank);

    /// @notice Emitted when the firm follows up a letter that awaits the bank or the auditee.
    event LetterFollowedUp(bytes32 indexed letterId, uint32 indexed firm, uint32 indexed bank);

    /// @notice Emitted when a bank registers (or renews) a mandate signer for one of its customers;
    /// `signerId` is the keccak256 of the signer's ERC-7913 bytes.
    event MandateRegistered(
        uint32 indexed bank, bytes32 indexed auditeeRef, bytes32 indexed signerId, uint64 validUntil
    );

    /// @notice Emitted when a bank revokes a mandate signer.
    event MandateRevoked(uint32 indexed bank, bytes32 indexed auditeeRef, bytes32 indexed signerId);

    /**
     * @notice Requests letter `letterId`, addressed to `bank`, due at `dueAt`.
     * @dev Requirements:
     * - the caller is an Active audit firm and `bank` an Active bank;
     * - `letterId` is unused, `dueAt` is in the future, `letterHash` is non-zero.
     * The auditee's reference is not named here: it comes with the authorisation (see {authorise}).
     */
    function request(bytes32 letterId, uint32 bank, bytes32 letterHash, uint64 dueAt) external;

    /**
     * @notice Records the auditee's authorisation of a Requested letter; anyone may relay it.
     * @dev Requirements:
     * - the letter is Requested; `auth.firm` is its firm; `auth.validUntil` is not past;
     * - `proof` shows the letter's leaf under `auth.requestsRoot`;
     * - `auditeeRef`, supplied by the relayer, is non-zero and `signer` (ERC-7913) holds the bank's
     *   unexpired mandate for it, and `signature` is its signature over the EIP-712 digest of `auth`
     *   (see {isValidAuditeeSignature}).
     * The letter keeps `auditeeRef`; the bank checks on arrival that the letter's auditee is the
     * customer it commits to.
     */
    function authorise(
        bytes32 letterId,
        Authorisation calldata auth,
        bytes32 auditeeRef,
        bytes calldata signer,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external;

    /**
     * @notice Records the auditee's refusal to authorise a Requested letter, with its reason code;
     * anyone may relay it. The letter is then Refused and goes no further.
     * @dev Requirements as for {authorise}, with a {Refusal} signed instead.
     */
    function refuseAuthorisation(
        bytes32 letterId,
        Refusal calldata refusal,
        bytes32 auditeeRef,
        bytes calldata signer,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external;

    /**
     * @notice The addressed bank has received the letter intact and compliant.
     * @dev Requirements: the caller is the Active addressed bank; the letter is Authorised.
     */
    function accept(bytes32 letterId) external;

    /**
     * @notice The addressed bank rejects the letter as not compliant, with a reason code.
     * @dev Requirements: the caller is the Active addressed bank; the letter is Authorised.
     */
    function reject(bytes32 letterId, uint16 reason) external;

    /**
     * @notice The addressed bank records the salted hash of its reply.
     * @dev Requirements: the caller is the Active addressed bank; the letter is Accepted;
     * `replyHash` is non-zero.
     */
    function reply(bytes32 letterId, bytes32 replyHash) external;

    /**
     * @notice The requesting firm closes the letter after checking the reply.
     * @dev Requirements: the caller is the Active requesting firm; the letter is Replied.
     */
    function close(bytes32 letterId) external;

    /**
     * @notice The requesting firm withdraws the letter before the reply.
     * @dev Requirements: the caller is the Active requesting firm; the letter is Requested,
     * Authorised or Accepted.
     */
    function withdraw(bytes32 letterId) external;

    /**
     * @notice The requesting firm records a follow-up; the state does not change.
     * @dev Requirements: the caller is the Active requesting firm; the letter is Requested,
     * Authorised or Accepted.
     */
    function followUp(bytes32 letterId) external;

    /**
     * @notice The calling bank lets `signer` (ERC-7913) authorise letters for its customer
     * `auditeeRef` until `validUntil`. A bank can register mandates only for itself.
     * @dev Requirements: the caller is an Active bank; `signer` is at least 20 bytes, does not start
     * with the zero address, and a key's verifier (its first 20 bytes) has code; `validUntil` is in
     * the future.
     */
    function registerMandate(bytes32 auditeeRef, bytes calldata signer, uint64 validUntil) external;

    /**
     * @notice The calling bank withdraws `signer`'s mandate for its customer `auditeeRef`.
     * @dev Requirements: the caller is an Active bank.
     */
    function revokeMandate(bytes32 auditeeRef, bytes calldata signer) external;

    /// @notice The member registry this registry checks parties against.
    function memberRegistry() external view returns (IMemberRegistry);

    /// @notice The record of letter `letterId` (all zero if unknown).
    function getLetter(bytes32 letterId) external view returns (Letter memory);

    /// @notice Whether letter `letterId` awaits the auditee or the bank past its due time.
    function isOverdue(bytes32 letterId) external view returns (bool);

    /// @notice Until when `signer` (ERC-7913) may authorise for `bank`'s customer `auditeeRef` (0 if never).
    function mandateValidUntil(uint32 bank, bytes32 auditeeRef, bytes calldata signer)
        external
        view
        returns (uint64);

    /**
     * @notice Whether `signature` is `signer`'s over `digest`, exactly as {authorise} and
     * {refuseAuthorisation} check it: OpenZeppelin's ERC-7913 `SignatureChecker.isValidSignatureNow`
     * (ECDSA for a 20-byte signer without code, ERC-1271 for one with code, else the verifier named
     * by its first 20 bytes). Gateways and verifiers call it so that their check is the contract's.
     */
    function isValidAuditeeSignature(bytes calldata signer, bytes32 digest, bytes calldata signature)
        external
        view
        returns (bool);

    /// @notice The Merkle leaf of one letter under an authorisation's or refusal's requests root.
    function authorisationLeaf(bytes32 letterId, bytes32 letterHash, uint32 bank) external pure returns (bytes32);

    /// @notice The EIP-712 digest the signer signs for `auth`.
    function authorisationDigest(Authorisation calldata auth) external view returns (bytes32);

    /// @notice The EIP-712 digest the signer signs for `refusal`.
    function refusalDigest(Refusal calldata refusal) external view returns (bytes32);
}
