"""The bank adapter's exceptions: branches of the gateway's tree, so the gateway's one handler maps
them to HTTP with their own stable codes.

    GatewayError (node_gateway.errors)
    ├── Forbidden
    │   ├── SameOfficer          same_officer          403  the reviewer prepared the draft
    │   ├── PreparerNotOfficer   preparer_not_officer  403  the preparer named is no active user of this
    │   │                                                   gateway with the preparer role
    │   ├── ReviewerNotOfficer   reviewer_not_officer  403  the reviewer named is no active user of this
    │   │                                                   gateway with the reviewer role
    │   ├── PreparerDidNotAct    preparer_did_not_act  403  the preparer named did not draft this reply
    │   │                                                   (no drafted entry in the decision log)
    │   └── SystemSignOff        system_sign_off       403  a ``system:`` sign-off other than the
    │                                                       straight-through policy's on a clean reply
    ├── Conflict
    │   ├── DraftNotPending      draft_not_pending     409  the draft is not awaiting review
    │   ├── DraftChanged         draft_changed         409  a newer draft replaced the one named
    │   └── NotReadyToDraft      not_ready_to_draft    409  the letter cannot be drafted now
    ├── InvalidRequest
    │   └── DraftInconsistent    draft_inconsistent    422  a manual draft contradicts the letter
    └── CoreUnavailable          core_unavailable      503  no core bank, or it did not answer
"""

from __future__ import annotations

from node_gateway.errors import Conflict, Forbidden, GatewayError, InvalidRequest


class SameOfficer(Forbidden):
    code = "same_officer"


class PreparerNotOfficer(Forbidden):
    code = "preparer_not_officer"


class ReviewerNotOfficer(Forbidden):
    code = "reviewer_not_officer"


class PreparerDidNotAct(Forbidden):
    code = "preparer_did_not_act"


class SystemSignOff(Forbidden):
    code = "system_sign_off"


class DraftNotPending(Conflict):
    code = "draft_not_pending"


class DraftChanged(Conflict):
    code = "draft_changed"


class NotReadyToDraft(Conflict):
    code = "not_ready_to_draft"


class DraftInconsistent(InvalidRequest):
    code = "draft_inconsistent"


class CoreUnavailable(GatewayError):
    code = "core_unavailable"
    status = 503
