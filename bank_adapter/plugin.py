"""The bank adapter as a gateway plugin (entry point ``bank`` of ``confirmnet.plugins``).

On a bank's gateway it adds the bank's user API (``api``) and, with a core bank configured
(``core_banking_url``), the workflow worker (``workflow.BankWorkflow``); in every gateway's
database where it is installed, its tables (``models``) through its Alembic branch ``bank``
(``migrations/``); and its web pages (``web``: the inbox, a letter's case, the mandates). The
routes, the pages and the worker are imported when a gateway asks for them, so migrating a
database loads no more than the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bank_adapter.models import BankBase
from node_gateway.core.config import MemberRole
from node_gateway.plugins import GatewayPlugin, MigrationBranch, Pages, Worker

if TYPE_CHECKING:
    from fastapi import APIRouter

    from node_gateway.node import Node

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BRANCH = "bank"


class BankPlugin(GatewayPlugin):
    name = "bank"
    roles = frozenset({MemberRole.BANK})

    def routers(self) -> Sequence[APIRouter]:
        from bank_adapter.api import routers

        return routers

    def workers(self, node: Node) -> Sequence[Worker]:
        if node.settings.core_banking_url is None:
            return ()
        from bank_adapter.workflow import BankWorkflow

        return (Worker("bank-workflow", BankWorkflow.for_node(node).run_once),)

    def pages(self) -> Pages:
        from bank_adapter.web import pages

        return pages()

    def migrations(self) -> MigrationBranch:
        return MigrationBranch(label=BRANCH, versions=MIGRATIONS, metadata=BankBase.metadata)


plugin = BankPlugin()
