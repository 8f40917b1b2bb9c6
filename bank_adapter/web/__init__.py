"""The bank's web pages, served by the bank plugin on a bank's gateway (``plugins.Pages``).

- ``routes``: the inbox by deadline (working days left on the official calendar), a letter's case
  (its items beside the draft, the differences explained, the decision log, the actions of each
  role with maker–checker shown, the letter and the reply as PDFs), the customers' mandate
  signers, the core-data import (the CLI's ``importer.import_files``, checked row by row first);
- ``enrolment``: a customer's signer enrols a passkey, another officer approves its mandate;
- ``messages``: their words in Chinese and English; ``templates/bank/``: their templates.

They call the bank's API's own functions (``bank_adapter.api``), so the pages and the API share
every check. docs/WEB.md says more.
"""

from __future__ import annotations

from pathlib import Path

from node_gateway.plugins import Pages

TEMPLATES = Path(__file__).resolve().parent / "templates"


def pages() -> Pages:
    from bank_adapter.web import enrolment, messages, routes

    return Pages(
        routers=(routes.router, enrolment.router), templates=TEMPLATES, nav=routes.NAV, messages=messages.ALL
    )
