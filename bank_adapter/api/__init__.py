"""The bank's user API, mounted on a bank's gateway by the bank plugin (``bank_adapter.plugin``).

- ``inbox``: ``/v1/inbox``, and a letter's chain steps as an officer or reviewer takes them
  (``/v1/letters/{id}/accept``, ``/reject``, ``/reply``);
- ``mandates``: a customer's auditee reference and its mandate signers (``/v1/customers/…``,
  ``/v1/mandates…``, ``/v1/bank/mandates/import``);
- ``cases``: the reply workflow (``/v1/bank/…``): letters with their stage and deadlines, drafts,
  approval, return, rejection as not compliant, the decision log;
- ``officers``: the name and title of the person behind each user, as replies name them
  (``/v1/bank/officers``);
- ``rules``: the bank's business rules as its admin publishes them to the network
  (``/v1/bank/rules``).

The roles each route serves are in ``deps``.
"""

from fastapi import APIRouter

from bank_adapter.api import cases, inbox, mandates, officers, rules

routers: tuple[APIRouter, ...] = (inbox.router, mandates.router, cases.router, officers.router, rules.router)

__all__ = ["routers"]
