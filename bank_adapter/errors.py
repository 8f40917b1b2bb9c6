"""The bank adapter's exceptions: one root, a branch of node_gateway's tree.

Each error the API answers is also a branch of the core's error of that kind (``Forbidden``,
``Conflict``, ``InvalidRequest``, ``Unavailable``), so the gateway's one table
(``node_gateway.api.errors.HTTP_STATUS``) gives it that kind's status, with its own stable code.

    NodeGatewayError (node_gateway.errors)
    └── BankAdapterError             bank_adapter_error         500  everything the bank adapter raises
        ├── SameOfficer              same_officer               403  the reviewer prepared the draft
        ├── PreparerNotOfficer       preparer_not_officer       403  the preparer named is no active user
        │                                                            of this gateway with the preparer role
        ├── ReviewerNotOfficer       reviewer_not_officer       403  the reviewer named is no active user
        │                                                            of this gateway with the reviewer role
        ├── PreparerDidNotAct        preparer_did_not_act       403  the preparer named did not draft this
        │                                                            reply (no drafted entry in the log)
        ├── SystemSignOff            system_sign_off            403  a ``system:`` sign-off other than the
        │                                                            straight-through policy's on a clean reply
        ├── DraftNotPending          draft_not_pending          409  the draft is not awaiting review
        ├── DraftChanged             draft_changed              409  a newer draft replaced the one named
        ├── NotReadyToDraft          not_ready_to_draft         409  the letter cannot be drafted now
        ├── DraftInconsistent        draft_inconsistent         422  a manual draft contradicts the letter
        ├── CoreUnavailable          core_unavailable           503  no core bank, or it did not answer
        ├── CoreBankingError         bank_adapter_error         500  the core-banking system failed (port)
        │   └── UnknownCustomer      bank_adapter_error         500  no such customer in the core (port)
        └── ImportRejected           bank_adapter_error         500  the files hold bad rows (importer)

The 403s are ``Forbidden``, the 409s ``Conflict``, ``DraftInconsistent`` an ``InvalidRequest`` and
``CoreUnavailable`` an ``Unavailable`` of the core's tree as well.
"""

from __future__ import annotations

from node_gateway.errors import Conflict, Forbidden, InvalidRequest, NodeGatewayError, Unavailable


class BankAdapterError(NodeGatewayError):
    """Root of everything the bank adapter raises."""

    code = "bank_adapter_error"


class SameOfficer(BankAdapterError, Forbidden):
    code = "same_officer"


class PreparerNotOfficer(BankAdapterError, Forbidden):
    code = "preparer_not_officer"


class ReviewerNotOfficer(BankAdapterError, Forbidden):
    code = "reviewer_not_officer"


class PreparerDidNotAct(BankAdapterError, Forbidden):
    code = "preparer_did_not_act"


class SystemSignOff(BankAdapterError, Forbidden):
    code = "system_sign_off"


class DraftNotPending(BankAdapterError, Conflict):
    code = "draft_not_pending"


class DraftChanged(BankAdapterError, Conflict):
    code = "draft_changed"


class NotReadyToDraft(BankAdapterError, Conflict):
    code = "not_ready_to_draft"


class DraftInconsistent(BankAdapterError, InvalidRequest):
    code = "draft_inconsistent"


class CoreUnavailable(BankAdapterError, Unavailable):
    code = "core_unavailable"


class OfficerUnnamed(BankAdapterError, Forbidden):
    code = "officer_unnamed"
