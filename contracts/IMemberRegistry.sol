// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/**
 * @title IMemberRegistry
 * @notice Permissioning of the confirmation network: who the members are, what role each has,
 * whether it may act, and where its gateway and encryption keys are.
 * @dev A member is identified by a number assigned at admission. Letters refer to members by that
 * number, so a member that rotates its account keeps its history.
 *
 * Governance: one active operator alone admits, suspends, reinstates and revokes audit firms, banks
 * and regulators. A change to the operators themselves (admitting an operator, or suspending,
 * reinstating or revoking one) goes through a proposal instead: an operator proposes it, other
 * active operators approve it, and any active operator executes it once a quorum has approved and
 * the governance delay has passed since the proposal. Every step is an event, so every member sees
 * a change to the operators coming. The quorum is a strict majority of the active operators other
 * than the one concerned (at least one); the proposer's approval counts, the concerned operator's
 * cannot be given.
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

    /// @notice A change to the operators, which no single operator may make alone.
    enum OperatorAction {
        None,
        Admit,
        Suspend,
        Reinstate,
        Revoke
    }

    /// @notice Where a proposal stands. Waiting and Ready are derived from the clock: a proposal is
    /// Ready once the governance delay has passed since it was made.
    enum ProposalState {
        None,
        Waiting,
        Ready,
        Executed,
        Cancelled
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

    /// @notice A proposed change to the operators.
    struct Proposal {
        OperatorAction action;
        ProposalState state;
        uint32 memberId; // the operator concerned; for an admission 0 until executed
        uint32 proposer;
        uint64 readyAt; // the earliest time it can be executed
        uint32[] approvers; // member numbers, the proposer first
        Member candidate; // an admission's new operator (status None until admitted); empty otherwise
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

    /// @notice Thrown when a single operator tries to admit an operator (`memberId` 0) or to change
    /// operator `memberId`'s status directly: that takes a proposal.
    error MemberRegistryOperatorChangeNeedsProposal(uint32 memberId);

    /// @notice Thrown when proposal `proposalId` is `current`, not one of the `expectedStates` (a
    /// bitmap with bit `s` set for state `s`).
    error MemberRegistryUnexpectedProposalState(uint32 proposalId, ProposalState current, bytes32 expectedStates);

    /// @notice Thrown when operator `memberId` approves proposal `proposalId` a second time.
    error MemberRegistryProposalAlreadyApproved(uint32 proposalId, uint32 memberId);

    /// @notice Thrown when operator `memberId` proposes or approves proposal `proposalId`, which concerns it.
    error MemberRegistryConcernedOperator(uint32 proposalId, uint32 memberId);

    /// @notice Thrown when proposal `proposalId` is executed with `approvals` of the `quorum` it needs.
    error MemberRegistryQuorumNotReached(uint32 proposalId, uint32 approvals, uint32 quorum);

    /// @notice Emitted when a member is admitted (an operator by an executed proposal).
    event MemberAdmitted(uint32 indexed memberId, address indexed account, Role indexed role, bytes32 orgId);

    /// @notice Emitted when a member's status changes (suspended, reinstated or revoked).
    event MemberStatusChanged(uint32 indexed memberId, MemberStatus indexed status, address indexed by);

    /// @notice Emitted when a member publishes a new gateway endpoint or encryption keys.
    event MemberEndpointUpdated(uint32 indexed memberId, string endpoint, bytes encryptionKeys);

    /// @notice Emitted when a member moves to a new account.
    event MemberAccountRotated(uint32 indexed memberId, address indexed previousAccount, address indexed newAccount);

    /// @notice Emitted when operator `proposer` proposes a change to operator `memberId` (0 for an
    /// admission) of account `account` and organisation `orgId`; executable from `readyAt` on.
    event OperatorChangeProposed(
        uint32 indexed proposalId,
        OperatorAction indexed action,
        uint32 indexed memberId,
        address account,
        bytes32 orgId,
        uint32 proposer,
        uint64 readyAt
    );

    /// @notice Emitted when operator `approver` approves a proposal (the proposer on proposing);
    /// `approvals` counts the approvals given so far.
    event OperatorChangeApproved(uint32 indexed proposalId, uint32 indexed approver, uint32 approvals);

    /// @notice Emitted when a proposal is executed, after the change's own event.
    event OperatorChangeExecuted(uint32 indexed proposalId, uint32 indexed memberId, address indexed by);

    /// @notice Emitted when the proposer cancels its proposal.
    event OperatorChangeCancelled(uint32 indexed proposalId, uint32 indexed proposer);

    /**
     * @notice Admits a new audit firm, bank or regulator, Active from now on.
     * @dev Requirements:
     * - the caller is an Active operator;
     * - `role` is not Operator (an operator is admitted by {proposeOperatorAdmission});
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
     * @dev Requirements: the caller is an Active operator; the member is Active and no operator
     * (an operator is suspended by {proposeOperatorStatusChange}).
     */
    function suspend(uint32 memberId) external;

    /**
     * @notice Reinstates a Suspended member.
     * @dev Requirements: the caller is an Active operator; the member is Suspended and no operator.
     */
    function reinstate(uint32 memberId) external;

    /**
     * @notice Revokes a member for good.
     * @dev Requirements: the caller is an Active operator; the member is Active or Suspended and
     * no operator.
     */
    function revoke(uint32 memberId) external;

    /**
     * @notice Proposes to admit a new operator; the caller's approval counts.
     * @dev Requirements:
     * - the caller is an Active operator;
     * - `account` and `orgId` are not in use and not zero.
     * @return proposalId the number of the proposal
     */
    function proposeOperatorAdmission(
        address account,
        bytes32 orgId,
        string calldata displayName,
        string calldata endpoint,
        bytes calldata encryptionKeys
    ) external returns (uint32 proposalId);

    /**
     * @notice Proposes to change operator `memberId`'s status to `status` (Suspended: suspend;
     * Active: reinstate; Revoked: revoke); the caller's approval counts.
     * @dev Requirements:
     * - the caller is an Active operator other than `memberId`;
     * - `memberId` is an operator whose current status allows the change.
     * @return proposalId the number of the proposal
     */
    function proposeOperatorStatusChange(uint32 memberId, MemberStatus status) external returns (uint32 proposalId);

    /**
     * @notice Approves a proposal.
     * @dev Requirements: the caller is an Active operator, not the one the proposal concerns, that
     * has not approved it yet; the proposal is Waiting or Ready.
     */
    function approveProposal(uint32 proposalId) external;

    /**
     * @notice Makes the proposed change.
     * @dev Requirements:
     * - the caller is an Active operator;
     * - the proposal is Ready (the governance delay has passed since it was made);
     * - a quorum of the operators approves it (see {proposalApprovals});
     * - the change is still possible (the account and organisation are free, the status allows it).
     */
    function executeProposal(uint32 proposalId) external;

    /**
     * @notice Withdraws a proposal that is not executed yet.
     * @dev Requirements: the caller is the proposal's proposer and an Active operator; the
     * proposal is Waiting or Ready.
     */
    function cancelProposal(uint32 proposalId) external;

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

    /// @notice The time, in seconds, between a proposal and its earliest execution (fixed at deployment).
    function governanceDelay() external view returns (uint64);

    /// @notice The number of operators that are Active.
    function activeOperatorCount() external view returns (uint32);

    /// @notice The number of proposals made so far (proposal numbers run from 1 to this).
    function proposalCount() external view returns (uint32);

    /// @notice Proposal `proposalId`, its state as of now (state None if there is no such proposal).
    function getProposal(uint32 proposalId) external view returns (Proposal memory);

    /// @notice Whether operator `memberId` has approved proposal `proposalId`.
    function hasApproved(uint32 proposalId, uint32 memberId) external view returns (bool);

    /**
     * @notice The approvals of proposal `proposalId` that count now (those of operators still
     * Active) and the quorum it needs now: a strict majority of the Active operators other than
     * the one concerned, at least one.
     */
    function proposalApprovals(uint32 proposalId) external view returns (uint32 approvals, uint32 quorum);
}
