"""The bank's side of a gateway: from the core-banking system to a reviewed, signed reply.

- ``port``: ``CoreBankingPort``, what the adapter needs from a core-banking system;
  ``core_sql``: the reference core bank on SQL, ``core_rows`` its records, ``importer`` its
  CSV/Excel import, ``generator`` its demo data;
- ``compliance``: the check on arrival; ``drafting``: the reply, item by item; ``approval``:
  maker–checker, policies and the decision log; ``deadlines``: official working days;
  ``mandates``: the customers' signers;
- ``workflow``: the bank gateway's worker and operations; ``api``: the bank's user API (the
  inbox and a letter's steps, mandates, the reply workflow); ``cli``: ``confirmnet bank …``.

It plugs into the gateway as the ``bank`` plugin (``plugin``, declared under the entry points
``confirmnet.plugins``; see ``node_gateway.plugins``): its routes and its worker on bank gateways,
its tables (``models``) through its own Alembic branch ``bank`` (``migrations/``). It reads and
acts on the gateway's letters only through ``node_gateway.services.facade``. Its settings are the
gateway's ``core_banking_url``, ``approval_policy`` and ``straight_through_limit``.
"""

from bank_adapter.approval import ApprovalPolicy
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import Draft, draft_reply
from bank_adapter.port import CoreBankingError, CoreBankingPort, CoreSnapshot, CustomerRecord, UnknownCustomer

__all__ = [
    "ApprovalPolicy",
    "CoreBank",
    "CoreBankingError",
    "CoreBankingPort",
    "CoreSnapshot",
    "CustomerRecord",
    "Draft",
    "UnknownCustomer",
    "draft_reply",
]
