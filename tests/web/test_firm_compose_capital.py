"""The firm's composer offers the 验资 letter (its form is drawn from the schema): a letter of
investors' contributions composed in the form is created as a capital-verification letter, with
exactly its contributions and none of the standard items."""

from __future__ import annotations

import re

from node_gateway.protocol.documents import STANDARD_ITEMS, ItemKey, LetterFormat
from node_gateway.protocol.samples import sample_letter
from web.test_bank_pages import _csrf, sign_in
from web.test_firm_compose import Firm, _api_letter, _compose_form, entry_cells, firm

__all__ = ["firm"]

CONTRIBUTION = sample_letter(letter_format=LetterFormat.CAPITAL).items.capital_contributions.entries[1]


def test_a_composed_capital_letter_is_created_with_its_contributions(firm: Firm) -> None:
    http = sign_in(firm.gateway, "wang")
    page = http.get("/web/firm/compose")
    assert page.status_code == 200
    assert 'name="letter_format" value="capital"' in page.text
    assert "银行询证函(验资)" in page.text
    assert 'data-testid="item-capital_contributions"' in page.text

    form = _compose_form(
        firm, {ItemKey.CAPITAL_CONTRIBUTIONS: entry_cells(CONTRIBUTION)}, letter_format="capital"
    )
    created = http.post("/web/firm/compose", data=form | {"csrf_token": _csrf(page.text)})
    assert created.status_code == 200, created.text
    found = re.fullmatch(r"/web/firm/letters/(0x[0-9a-f]{64})", created.url.path)
    assert found, created.url
    # The letter's page names its format and shows its contributions, and no standard item.
    assert "银行询证函(验资)" in created.text
    assert CONTRIBUTION.payer_name in created.text
    assert "1 银行存款" not in created.text

    letter = _api_letter(firm, http, found.group(1))
    assert letter["format"] == LetterFormat.CAPITAL.value
    assert letter["items"]["capital_contributions"] == {
        "not_applicable": False,
        "entries": [CONTRIBUTION.model_dump(mode="json")],
    }
    assert all(letter["items"][key.value]["not_applicable"] for key in STANDARD_ITEMS)


def test_a_capital_letter_without_contributions_is_shown_its_rule(firm: Firm) -> None:
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/compose").text)
    form = _compose_form(firm, {}, letter_format="capital")
    refused = http.post("/web/firm/compose", data=form | {"csrf_token": csrf})
    assert refused.status_code == 422, refused.status_code
    # Beside the contributions item, in words: the letter's rule capital_contributions_blank.
    item = refused.text.split('data-testid="item-capital_contributions"', 1)[1].split("</fieldset>", 1)[0]
    assert "验资询证函须列出请银行确认的投资者缴款" in item
