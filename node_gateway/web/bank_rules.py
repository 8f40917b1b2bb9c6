"""The banks' business rules on the firm's composer: what each bank confirms, the formats it
accepts, its fee and contact, as the firm's gateway last fetched and checked them."""

from __future__ import annotations

from node_gateway.node import Node
from node_gateway.protocol.bank_rules import BankRules
from node_gateway.services.bank_rules import all_kept_rules


def rules_by_bank(node: Node) -> dict[int, BankRules]:
    with node.db.session() as session:
        return all_kept_rules(session)
