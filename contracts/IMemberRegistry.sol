// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title IMemberRegistry
 * @notice Permissioning of the confirmation network: who the members are, what role each has,
 * whether it may act, and where its gateway and encryption keys are.
 * @dev A member is identified by a number assigned at admission. Letters refer to members by that
 * number, so a member that rotates its account keeps its history.
 */
interface IMemberRegistry {
    /// @notice The kind of institution a member is.
    enum Role {
        None,
        Operator,
        AuditFirm,
        Bank,
        Regulator
    }

    /// @notice Whether a member may act. Revoked is final.
    enum MemberStatus {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice The record of one member.
    struct Member {
        Role role;
        MemberStatus status;
        address account;
        bytes32 orgId;
        string displayName;
        string endpoint;
        bytes encryptionKeys;
    }

    /// @notice Thrown when `account` is not the account of any member.
    error MemberRegistryUnknownAccount(address account);

    /// @notice Thrown when no member has the number `memberId`.
    error MemberRegistryUnknownMember(uint32 memberId);

    /// @notice Thrown when `account` calls an operator-only function without being an active operator.
    error MemberRegistryUnauthorized(address account);

    /// @notice Thrown when a member that is not Active tries to act or to be acted upon.
    error MemberRegistryMemberNotActive(uint32 memberId, MemberStatus status);

    /// @notice Thrown when a member has another role than the one the action needs.
    error MemberRegistryWrongRole(uint32 memberId, Role expected, Role actual);

    /// @notice Thrown when `account` already belongs to a member.
    error MemberRegistryAccountInUse(address account);

    /// @notice Thrown when the organisation `orgId` is already a member.
    error MemberRegistryOrganisationInUse(bytes32 orgId);

    /// @notice Thrown when an admission names no account, no organisation or no role.
    error MemberRegistryInvalidAdmission();

    /// @notice Thrown when a status change is not allowed from the member's current status.
    error MemberRegistryInvalidStatusChange(uint32 memberId, MemberStatus current, MemberStatus requested);

    /// @notice Emitted when the operator admits a member.
    event MemberAdmitted(uint32 indexed memberId, address indexed account, Role indexed role, bytes32 orgId);

    /// @notice Emitted when a member's status changes (suspended, reinstated or revoked).
    event MemberStatusChanged(uint32 indexed memberId, MemberStatus indexed status, address indexed by);

    /// @notice Emitted when a member publishes a new gateway endpoint or encryption keys.
    event MemberEndpointUpdated(uint32 indexed memberId, string endpoint, bytes encryptionKeys);

    /// @notice Emitted when a member moves to a new account.
    event MemberAccountRotated(uint32 indexed memberId, address indexed previousAccount, address indexed newAccount);

    /**
     * @notice Admits a new member, Active from now on.
     * @dev Requirements:
     * - the caller is an Active operator;
     * - `account` and `orgId` are not in use, and neither they nor `role` are zero.
     * @return memberId the number assigned to the member
     */
    function admit(
        address account,
        Role role,
        bytes32 orgId,
        string calldata displayName,
        string calldata endpoint,
        bytes calldata encryptionKeys
    ) external returns (uint32 memberId);

    /**
     * @notice Suspends an Active member; it cannot act until reinstated.
     * @dev Requirements: the caller is an Active operator other than the member; the member is Active.
     */
    function suspend(uint32 memberId) external;

    /**
     * @notice Reinstates a Suspended member.
     * @dev Requirements: the caller is an Active operator; the member is Suspended.
     */
    function reinstate(uint32 memberId) external;

    /**
     * @notice Revokes a member for good.
     * @dev Requirements: the caller is an Active operator other than the member; the member is
     * Active or Suspended.
     */
    function revoke(uint32 memberId) external;

    /**
     * @notice Publishes the caller's gateway endpoint and encryption (HPKE) public keys.
     * @dev Requirements: the caller is an Active member.
     */
    function updateEndpoint(string calldata endpoint, bytes calldata encryptionKeys) external;

    /**
     * @notice Moves the caller's membership to `newAccount`; the old account can no longer act.
     * @dev Requirements: the caller is an Active member; `newAccount` is non-zero and not in use.
     */
    function rotateAccount(address newAccount) external;

    /// @notice The number of members admitted so far (member numbers run from 1 to this).
    function memberCount() external view returns (uint32);

    /// @notice The record of member `memberId`.
    function getMember(uint32 memberId) external view returns (Member memory);

    /// @notice The member number of `account`, or 0 if it is no member's account.
    function memberIdOf(address account) external view returns (uint32);

    /**
     * @notice Returns the member number of `account`, reverting unless it is an Active `role`.
     * @dev Used by other contracts to check the party that acts.
     */
    function requireActiveAccount(address account, Role role) external view returns (uint32 memberId);

    /// @notice Reverts unless member `memberId` exists, is Active and has `role`.
    function requireActiveMember(uint32 memberId, Role role) external view;
}
