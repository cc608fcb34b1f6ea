"""`lifecycle bot --console`: the same conversation in a terminal, buttons as numbers."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.engine import Engine

from bot.console import console_session
from tests.bot.conftest import serve_api
from tests.bot.factories import linked_staff, vip_customer


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_a_staff_member_opens_a_card_and_presses_a_numbered_button(
    engine: Engine, token: str
) -> None:
    staff_id, _ = linked_staff(engine, 5001)
    customer_id = vip_customer(engine, staff_id)
    typed = io.StringIO(f"/customer {customer_id}\n1\nMaria\n/quit\n/help\n")
    shown = io.StringIO()

    with serve_api(engine) as url:
        await console_session(url, token, 5001, input_stream=typed, output=shown)

    text = shown.getvalue()
    assert f"👤 Maria Lopez (#{customer_id})" in text
    assert "[1] Cross-sell  [2] Reactivate  [3] Referral offer  [4] History" in text
    assert "Next best products for Maria Lopez:\n1. Green tea (40%) — in about 20 days" in text
    assert text.count("👤 Maria Lopez") == 2  # typing the name opened the card again
    assert "What I can do:" not in text  # nothing is read after /quit


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_an_unlinked_telegram_id_is_refused_in_the_console(
    engine: Engine, token: str
) -> None:
    shown = io.StringIO()

    with serve_api(engine) as url:
        await console_session(url, token, 4242, input_stream=io.StringIO("/today\n"), output=shown)

    assert "Sorry, this assistant is only for the sales team." in shown.getvalue()
