"""The banks' business rules on the firm's composer: what each bank confirms, the formats it
accepts, its fee and contact, as the firm's gateway last fetched and checked them."""

from __future__ import annotations

from dataclasses import dataclass

from node_gateway.node import Node
from node_gateway.protocol.bank_rules import BankRules
from node_gateway.services.bank_rules import all_kept_rules
from node_gateway.web.firm import beijing


@dataclass(frozen=True)
class RulesShown:
    rules: BankRules
    published: str  # Beijing time, as the pages show times


def rules_by_bank(node: Node) -> dict[int, RulesShown]:
    with node.db.session() as session:
        kept = all_kept_rules(session)
    return {bank: RulesShown(rules, beijing(rules.published_at.timestamp())) for bank, rules in kept.items()}
