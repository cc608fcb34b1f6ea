"""Score reasons are stored as findings and read in the reader's language."""

from __future__ import annotations

import math

import pytest

from domain.scoring.reasons import render_all, stored
from domain.wording import language_of

FOUND = [
    stored("recency_days", False, 213.0),
    stored("frequency", True, 1.0),
    stored("overdue_ratio", True, 2.6),
    stored("spend_trend", False, -0.6),
    stored("engagement_90d", True, 5.0),
    stored("tenure_days", True, 800.0),
    stored("spend_trend", True, math.inf),
    stored("spend_trend", False, math.nan),
]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "silent for 7 months",
                "ordered 1 time",
                "2.6× past their usual gap between orders",
                "spend down 60% on the 6 months before",
                "5 visits, opens or clicks in the last 90 days",
                "customer for 2.2 years",
                "started spending in the last 6 months",
                "bought nothing in the last 12 months",
            ],
        ),
        (
            "es",
            [
                "sin actividad desde hace 7 meses",
                "ha pedido 1 vez",
                "sin pedir desde hace 2,6× su intervalo habitual",
                "gasto un 60\xa0% menor que en los 6 meses anteriores",
                "5 visitas, aperturas o clics en los últimos 90 días",
                "cliente desde hace 2,2 años",
                "empezó a comprar en los últimos 6 meses",
                "no ha comprado nada en los últimos 12 meses",
            ],
        ),
        (
            "ru-RU",
            [
                "молчит уже 7 месяцев",
                "заказывал(а) 1 раз",
                "пауза — 2,6× от обычного интервала между заказами",
                "траты снизились на 60\xa0% к предыдущим 6 месяцам",
                "5 визитов, открытий или кликов за последние 90 дней",
                "клиент уже 2,2 года",
                "начал(а) покупать за последние 6 месяцев",
                "ничего не покупал(а) последние 12 месяцев",
            ],
        ),
        (
            "zh-Hans",
            [
                "已7个月没有动静",
                "下过1次单",
                "未下单时间已是其通常间隔的2.6倍",
                "消费比之前6个月减少60%",
                "过去90天有5次访问、打开或点击",
                "已是客户2.2年",
                "最近6个月开始消费",
                "过去12个月没有购买",
            ],
        ),
    ],
)
def test_findings_read_in_the_reader_s_language(language: str, expected: list[str]) -> None:
    assert render_all(FOUND, language) == expected


def test_written_reasons_and_unknown_languages_stay_as_they_are() -> None:
    assert render_all(["bought 5 times", stored("frequency", True, 5.0)], "fr") == [
        "bought 5 times",
        "ordered 5 times",
    ]
    assert language_of("zh-TW") == "en"
    assert language_of(None) == "en"
