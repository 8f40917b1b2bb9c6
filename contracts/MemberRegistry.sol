// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IMemberRegistry} from "./IMemberRegistry.sol";

/**
 * @title MemberRegistry
 * @notice The consortium's member list, kept by its operator. See {IMemberRegistry}.
 * @dev The operator role is the member record itself (role Operator, status Active), so that the
 * operator is suspended, rotated and audited exactly like every other member.
 */
contract MemberRegistry is IMemberRegistry {
    uint32 private _memberCount;
    mapping(uint32 memberId => Member) private _members;
    mapping(address account => uint32 memberId) private _memberIdOf;
    mapping(bytes32 orgId => bool) private _orgInUse;

    /// @notice Deploys the registry with the consortium operator as member 1.
    constructor(address operatorAccount, bytes32 operatorOrgId, string memory displayName) {
        _admit(operatorAccount, Role.Operator, operatorOrgId, displayName, "", "");
    }

    modifier onlyOperator() {
        uint32 caller = _memberIdOf[msg.sender];
        Member storage member = _members[caller];
        if (caller == 0 || member.role != Role.Operator || member.status != MemberStatus.Active) {
            revert MemberRegistryUnauthorized(msg.sender);
        }
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
        return _admit(account, role, orgId, displayName, endpoint, encryptionKeys);
    }

    /// @inheritdoc IMemberRegistry
    function suspend(uint32 memberId) external onlyOperator {
        _changeStatus(memberId, MemberStatus.Active, MemberStatus.Suspended);
    }

    /// @inheritdoc IMemberRegistry
    function reinstate(uint32 memberId) external onlyOperator {
        _changeStatus(memberId, MemberStatus.Suspended, MemberStatus.Active);
    }

    /// @inheritdoc IMemberRegistry
    function revoke(uint32 memberId) external onlyOperator {
        MemberStatus current = _existing(memberId).status;
        _changeStatus(memberId, current == MemberStatus.Suspended ? current : MemberStatus.Active, MemberStatus.Revoked);
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

    function _admit(
        address account,
        Role role,
        bytes32 orgId,
        string memory displayName,
        string memory endpoint,
        bytes memory encryptionKeys
    ) private returns (uint32 memberId) {
        if (account == address(0) || orgId == bytes32(0) || role == Role.None) {
            revert MemberRegistryInvalidAdmission();
        }
        if (_memberIdOf[account] != 0) revert MemberRegistryAccountInUse(account);
        if (_orgInUse[orgId]) revert MemberRegistryOrganisationInUse(orgId);
        memberId = ++_memberCount;
        _members[memberId] = Member(role, MemberStatus.Active, account, orgId, displayName, endpoint, encryptionKeys);
        _memberIdOf[account] = memberId;
        _orgInUse[orgId] = true;
        emit MemberAdmitted(memberId, account, role, orgId);
        if (bytes(endpoint).length != 0 || encryptionKeys.length != 0) {
            emit MemberEndpointUpdated(memberId, endpoint, encryptionKeys);
        }
    }

    /// @dev The one guard of the member lifecycle: `from` is the only status the change starts from.
    function _changeStatus(uint32 memberId, MemberStatus from, MemberStatus to) private {
        Member storage member = _existing(memberId);
        if (member.status != from || (to != MemberStatus.Active && _memberIdOf[msg.sender] == memberId)) {
            revert MemberRegistryInvalidStatusChange(memberId, member.status, to);
        }
        member.status = to;
        emit MemberStatusChanged(memberId, to, msg.sender);
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
