// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IMemberRegistry} from "./IMemberRegistry.sol";

/**
 * @title MemberRegistry
 * @notice The consortium's member list, kept by its operators. See {IMemberRegistry}.
 * @dev An operator is a member record itself (role Operator, status Active), so that operators are
 * rotated and audited exactly like every other member. One operator alone admits and changes the
 * status of audit firms, banks and regulators; a change to the operators takes a proposal, a
 * quorum of the other operators and the governance delay. Nothing else is settable: the delay is
 * fixed at deployment and the ConfirmationRegistry's link to this registry is immutable.
 *
 * Every member status change passes one guard, {_checkStatusChange}; every proposal step passes
 * one guard, {_requireProposalState}, that names the allowed states.
 */
contract MemberRegistry is IMemberRegistry {
    bytes32 private constant _OPEN = bytes32((1 << uint8(ProposalState.Waiting)) | (1 << uint8(ProposalState.Ready)));

    uint32 private _memberCount;
    uint32 private _activeOperators;
    uint32 private _proposalCount;
    /// @dev Set once by the constructor and never again. Kept in storage rather than as an
    /// immutable so that the runtime code is the same for every deployment, whatever its delay.
    uint64 private _governanceDelay;
    mapping(uint32 memberId => Member) private _members;
    mapping(address account => uint32 memberId) private _memberIdOf;
    mapping(bytes32 orgId => bool) private _orgInUse;
    mapping(uint32 proposalId => Proposal) private _proposals;
    mapping(uint32 proposalId => mapping(uint32 memberId => bool)) private _approved;

    /**
     * @notice Deploys the registry with the consortium operator as member 1.
     * @param governanceDelay_ seconds between a proposal to change the operators and its earliest execution
     */
    constructor(address operatorAccount, bytes32 operatorOrgId, string memory displayName, uint64 governanceDelay_) {
        _governanceDelay = governanceDelay_;
        _admit(operatorAccount, Role.Operator, operatorOrgId, displayName, "", "");
    }

    modifier onlyOperator() {
        _operatorCaller();
        _;
    }

    /// @inheritdoc IMemberRegistry
    function admit(
        address account,
        Role role,
        bytes32 orgId,
        string calldata displayName,
        string calldata endpoint,
        bytes calldata encryptionKeys
    ) external onlyOperator returns (uint32) {
        if (role == Role.Operator) revert MemberRegistryOperatorChangeNeedsProposal(0);
        return _admit(account, role, orgId, displayName, endpoint, encryptionKeys);
    }

    /// @inheritdoc IMemberRegistry
    function suspend(uint32 memberId) external onlyOperator {
        _changeStatus(memberId, MemberStatus.Suspended, false);
    }

    /// @inheritdoc IMemberRegistry
    function reinstate(uint32 memberId) external onlyOperator {
        _changeStatus(memberId, MemberStatus.Active, false);
    }

    /// @inheritdoc IMemberRegistry
    function revoke(uint32 memberId) external onlyOperator {
        _changeStatus(memberId, MemberStatus.Revoked, false);
    }

    /// @inheritdoc IMemberRegistry
    function proposeOperatorAdmission(
        address account,
        bytes32 orgId,
        string calldata displayName,
        string calldata endpoint,
        bytes calldata encryptionKeys
    ) external returns (uint32 proposalId) {
        uint32 proposer = _operatorCaller();
        _checkAdmission(account, Role.Operator, orgId);
        proposalId = ++_proposalCount;
        Proposal storage proposal = _proposals[proposalId];
        proposal.candidate = Member(Role.Operator, MemberStatus.None, account, orgId, displayName, endpoint, encryptionKeys);
        _open(proposalId, proposal, OperatorAction.Admit, 0, proposer);
        emit OperatorChangeProposed(proposalId, OperatorAction.Admit, 0, account, orgId, proposer, proposal.readyAt);
        _approve(proposalId, proposal, proposer);
    }

    /// @inheritdoc IMemberRegistry
    function proposeOperatorStatusChange(uint32 memberId, MemberStatus status) external returns (uint32 proposalId) {
        uint32 proposer = _operatorCaller();
        Member storage member = _existing(memberId);
        if (member.role != Role.Operator) revert MemberRegistryWrongRole(memberId, Role.Operator, member.role);
        OperatorAction action = status == MemberStatus.Suspended
            ? OperatorAction.Suspend
            : status == MemberStatus.Active ? OperatorAction.Reinstate : OperatorAction.Revoke;
        proposalId = ++_proposalCount;
        Proposal storage proposal = _proposals[proposalId];
        _open(proposalId, proposal, action, memberId, proposer);
        _checkStatusChange(memberId, member, status);
        emit OperatorChangeProposed(proposalId, action, memberId, member.account, member.orgId, proposer, proposal.readyAt);
        _approve(proposalId, proposal, proposer);
    }

    /// @inheritdoc IMemberRegistry
    function approveProposal(uint32 proposalId) external {
        uint32 approver = _operatorCaller();
        Proposal storage proposal = _proposals[proposalId];
        _requireProposalState(proposalId, proposal, _OPEN);
        _approve(proposalId, proposal, approver);
    }

    /// @inheritdoc IMemberRegistry
    function executeProposal(uint32 proposalId) external onlyOperator {
        Proposal storage proposal = _proposals[proposalId];
        _requireProposalState(proposalId, proposal, _encode(ProposalState.Ready));
        (uint32 approvals, uint32 quorum) = _approvals(proposal);
        if (approvals < quorum) revert MemberRegistryQuorumNotReached(proposalId, approvals, quorum);
        proposal.state = ProposalState.Executed;
        uint32 memberId = proposal.memberId;
        if (proposal.action == OperatorAction.Admit) {
            Member storage candidate = proposal.candidate;
            memberId = _admit(
                candidate.account,
                Role.Operator,
                candidate.orgId,
                candidate.displayName,
                candidate.endpoint,
                candidate.encryptionKeys
            );
            proposal.memberId = memberId;
        } else {
            OperatorAction action = proposal.action;
            _changeStatus(
                memberId,
                action == OperatorAction.Suspend
                    ? MemberStatus.Suspended
                    : action == OperatorAction.Reinstate ? MemberStatus.Active : MemberStatus.Revoked,
                true
            );
        }
        emit OperatorChangeExecuted(proposalId, memberId, msg.sender);
    }

    /// @inheritdoc IMemberRegistry
    function cancelProposal(uint32 proposalId) external {
        uint32 caller = _operatorCaller();
        Proposal storage proposal = _proposals[proposalId];
        _requireProposalState(proposalId, proposal, _OPEN);
        if (proposal.proposer != caller) revert MemberRegistryUnauthorized(msg.sender);
        proposal.state = ProposalState.Cancelled;
        emit OperatorChangeCancelled(proposalId, caller);
    }

    /// @inheritdoc IMemberRegistry
    function updateEndpoint(string calldata endpoint, bytes calldata encryptionKeys) external {
        uint32 memberId = _activeCaller();
        Member storage member = _members[memberId];
        member.endpoint = endpoint;
        member.encryptionKeys = encryptionKeys;
        emit MemberEndpointUpdated(memberId, endpoint, encryptionKeys);
    }

    /// @inheritdoc IMemberRegistry
    function rotateAccount(address newAccount) external {
        uint32 memberId = _activeCaller();
        if (newAccount == address(0)) revert MemberRegistryInvalidAdmission();
        if (_memberIdOf[newAccount] != 0) revert MemberRegistryAccountInUse(newAccount);
        delete _memberIdOf[msg.sender];
        _memberIdOf[newAccount] = memberId;
        _members[memberId].account = newAccount;
        emit MemberAccountRotated(memberId, msg.sender, newAccount);
    }

    /// @inheritdoc IMemberRegistry
    function memberCount() external view returns (uint32) {
        return _memberCount;
    }

    /// @inheritdoc IMemberRegistry
    function getMember(uint32 memberId) external view returns (Member memory) {
        return _existing(memberId);
    }

    /// @inheritdoc IMemberRegistry
    function memberIdOf(address account) external view returns (uint32) {
        return _memberIdOf[account];
    }

    /// @inheritdoc IMemberRegistry
    function requireActiveAccount(address account, Role role) external view returns (uint32 memberId) {
        memberId = _memberIdOf[account];
        if (memberId == 0) revert MemberRegistryUnknownAccount(account);
        _requireActive(memberId, role);
    }

    /// @inheritdoc IMemberRegistry
    function requireActiveMember(uint32 memberId, Role role) external view {
        _existing(memberId);
        _requireActive(memberId, role);
    }

    /// @inheritdoc IMemberRegistry
    function governanceDelay() external view returns (uint64) {
        return _governanceDelay;
    }

    /// @inheritdoc IMemberRegistry
    function activeOperatorCount() external view returns (uint32) {
        return _activeOperators;
    }

    /// @inheritdoc IMemberRegistry
    function proposalCount() external view returns (uint32) {
        return _proposalCount;
    }

    /// @inheritdoc IMemberRegistry
    function getProposal(uint32 proposalId) external view returns (Proposal memory proposal) {
        proposal = _proposals[proposalId];
        proposal.state = _state(_proposals[proposalId]);
    }

    /// @inheritdoc IMemberRegistry
    function hasApproved(uint32 proposalId, uint32 memberId) external view returns (bool) {
        return _approved[proposalId][memberId];
    }

    /// @inheritdoc IMemberRegistry
    function proposalApprovals(uint32 proposalId) external view returns (uint32 approvals, uint32 quorum) {
        return _approvals(_proposals[proposalId]);
    }

    function _admit(
        address account,
        Role role,
        bytes32 orgId,
        string memory displayName,
        string memory endpoint,
        bytes memory encryptionKeys
    ) private returns (uint32 memberId) {
        _checkAdmission(account, role, orgId);
        memberId = ++_memberCount;
        _members[memberId] = Member(role, MemberStatus.Active, account, orgId, displayName, endpoint, encryptionKeys);
        _memberIdOf[account] = memberId;
        _orgInUse[orgId] = true;
        if (role == Role.Operator) ++_activeOperators;
        emit MemberAdmitted(memberId, account, role, orgId);
        if (bytes(endpoint).length != 0 || encryptionKeys.length != 0) {
            emit MemberEndpointUpdated(memberId, endpoint, encryptionKeys);
        }
    }

    function _checkAdmission(address account, Role role, bytes32 orgId) private view {
        if (account == address(0) || orgId == bytes32(0) || role == Role.None) {
            revert MemberRegistryInvalidAdmission();
        }
        if (_memberIdOf[account] != 0) revert MemberRegistryAccountInUse(account);
        if (_orgInUse[orgId]) revert MemberRegistryOrganisationInUse(orgId);
    }

    /// @dev Changes a member's status; `governed` is true only when a proposal is executed.
    function _changeStatus(uint32 memberId, MemberStatus to, bool governed) private {
        Member storage member = _existing(memberId);
        bool operator = member.role == Role.Operator;
        if (operator && !governed) revert MemberRegistryOperatorChangeNeedsProposal(memberId);
        MemberStatus from = member.status;
        _checkStatusChange(memberId, member, to);
        member.status = to;
        if (operator) {
            if (to == MemberStatus.Active) ++_activeOperators;
            else if (from == MemberStatus.Active) --_activeOperators;
        }
        emit MemberStatusChanged(memberId, to, msg.sender);
    }

    /**
     * @dev The one guard of the member lifecycle: Active → Suspended, Suspended → Active, and
     * Active or Suspended → Revoked (final); nobody suspends or revokes its own membership.
     */
    function _checkStatusChange(uint32 memberId, Member storage member, MemberStatus to) private view {
        MemberStatus from = member.status;
        bool allowed = to == MemberStatus.Suspended
            ? from == MemberStatus.Active
            : to == MemberStatus.Active
                ? from == MemberStatus.Suspended
                : to == MemberStatus.Revoked && (from == MemberStatus.Active || from == MemberStatus.Suspended);
        if (!allowed || (to != MemberStatus.Active && _memberIdOf[msg.sender] == memberId)) {
            revert MemberRegistryInvalidStatusChange(memberId, from, to);
        }
    }

    function _open(uint32 proposalId, Proposal storage proposal, OperatorAction action, uint32 memberId, uint32 proposer)
        private
    {
        if (memberId == proposer) revert MemberRegistryConcernedOperator(proposalId, proposer);
        proposal.action = action;
        proposal.state = ProposalState.Waiting;
        proposal.memberId = memberId;
        proposal.proposer = proposer;
        proposal.readyAt = uint64(block.timestamp) + _governanceDelay;
    }

    function _approve(uint32 proposalId, Proposal storage proposal, uint32 approver) private {
        if (approver == proposal.memberId) revert MemberRegistryConcernedOperator(proposalId, approver);
        if (_approved[proposalId][approver]) revert MemberRegistryProposalAlreadyApproved(proposalId, approver);
        _approved[proposalId][approver] = true;
        proposal.approvers.push(approver);
        emit OperatorChangeApproved(proposalId, approver, uint32(proposal.approvers.length));
    }

    /// @dev The approvals of operators that are Active now, and the quorum of the Active operators
    /// other than the one concerned (a strict majority, at least one).
    function _approvals(Proposal storage proposal) private view returns (uint32 approvals, uint32 quorum) {
        uint32[] storage approvers = proposal.approvers;
        for (uint256 i = 0; i < approvers.length; ++i) {
            Member storage approver = _members[approvers[i]];
            if (approver.status == MemberStatus.Active && approver.role == Role.Operator) ++approvals;
        }
        uint32 others = _activeOperators;
        if (proposal.action != OperatorAction.Admit && _members[proposal.memberId].status == MemberStatus.Active) {
            --others;
        }
        quorum = others / 2 + 1;
    }

    /// @dev The one guard of proposals: reverts unless the proposal's state is among `allowed`.
    function _requireProposalState(uint32 proposalId, Proposal storage proposal, bytes32 allowed) private view {
        ProposalState current = _state(proposal);
        if (_encode(current) & allowed == 0) {
            revert MemberRegistryUnexpectedProposalState(proposalId, current, allowed);
        }
    }

    /// @dev Waiting and Ready are stored as Waiting; Ready is derived from the clock.
    function _state(Proposal storage proposal) private view returns (ProposalState) {
        ProposalState stored = proposal.state;
        if (stored == ProposalState.Waiting && block.timestamp >= proposal.readyAt) return ProposalState.Ready;
        return stored;
    }

    /// @dev The bitmap of a single state, as in {MemberRegistryUnexpectedProposalState}.
    function _encode(ProposalState state) private pure returns (bytes32) {
        return bytes32(1 << uint8(state));
    }

    function _operatorCaller() private view returns (uint32 caller) {
        caller = _memberIdOf[msg.sender];
        Member storage member = _members[caller];
        if (caller == 0 || member.role != Role.Operator || member.status != MemberStatus.Active) {
            revert MemberRegistryUnauthorized(msg.sender);
        }
    }

    function _activeCaller() private view returns (uint32 memberId) {
        memberId = _memberIdOf[msg.sender];
        if (memberId == 0) revert MemberRegistryUnknownAccount(msg.sender);
        MemberStatus status = _members[memberId].status;
        if (status != MemberStatus.Active) revert MemberRegistryMemberNotActive(memberId, status);
    }

    function _requireActive(uint32 memberId, Role role) private view {
        Member storage member = _members[memberId];
        if (member.status != MemberStatus.Active) revert MemberRegistryMemberNotActive(memberId, member.status);
        if (member.role != role) revert MemberRegistryWrongRole(memberId, role, member.role);
    }

    function _existing(uint32 memberId) private view returns (Member storage member) {
        member = _members[memberId];
        if (member.status == MemberStatus.None) revert MemberRegistryUnknownMember(memberId);
    }
}
