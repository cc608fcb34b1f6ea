"""Score rows as bytes: JSON columns, PostgreSQL binary COPY both ways, SQLite parameters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import numpy as np
import psycopg
import pytest

from domain.scoring.reasons import render_all
from worker.models.crosssell import CrossSell
from worker.models.propensity import Reasons, render_reasons
from worker.pipeline.bytestrings import concat, constant, from_texts, to_texts
from worker.pipeline.pgcopy import HEADER, TRAILER, CopyColumn, encode_records, read_arrays
from worker.pipeline.score_rows import (
    ScoreRows,
    cross_sell_json,
    json_lists,
    reasons_json,
    sqlite_rows,
)


def test_concat_lays_each_rows_pieces_end_to_end() -> None:
    words = from_texts(["ab", "", "ünï"])
    joined = concat(
        [(constant(b"<"), np.zeros(3, np.int64)), (words, None), (words, np.array([2, -1, 0]))], 3
    )

    assert to_texts(joined) == ["<abünï", "<", "<ünïab"]


def test_json_lists_skip_empty_slots_wherever_they_are() -> None:
    table = from_texts(['"a"', '"b"'])
    codes = np.array([[0, 1], [-1, -1], [-1, 1], [1, -1]])

    assert to_texts(json_lists(table, codes)) == ['["a","b"]', "[]", '["b"]', '["b"]']


def test_reasons_json_stores_what_render_reasons_says() -> None:
    rng = np.random.default_rng(7)
    template = rng.integers(-1, 22, (300, 3)).astype(np.int16)
    value = np.round(rng.uniform(0, 800, (300, 3)), 1)
    value[rng.random((300, 3)) < 0.1] = np.nan
    reasons = Reasons(template, value)

    texts = to_texts(reasons_json(reasons))

    stored = [json.loads(text) for text in texts]
    assert [render_all(items) for items in stored] == [
        render_reasons(reasons, i) for i in range(300)
    ]
    assert all(isinstance(item, dict) for items in stored for item in items)


def test_cross_sell_json_names_products_and_their_lead_time() -> None:
    suggestion = CrossSell(
        item=np.array([[2, 0, -1], [-1, -1, -1]]),
        score=np.array([[0.5, 0.1, np.nan], [np.nan] * 3]),
        due_in_days=np.array([[121.6, np.nan, np.nan], [np.nan] * 3]),
    )

    texts = to_texts(cross_sell_json(suggestion, np.array([10, 20, 30])))

    assert [json.loads(text) for text in texts] == [
        [{"product_id": 30, "due_in_days": 122}, {"product_id": 10, "due_in_days": None}],
        [],
    ]


def _rows() -> ScoreRows:
    json_text = from_texts(['["silent for 3 weeks"]', "[]", '[{"product_id": 7}]'])
    return ScoreRows(
        (
            CopyColumn("int8", np.array([1, 2, 3]), np.array([False, False, True])),
            CopyColumn("int4", np.array([-5, 0, 7])),
            CopyColumn("float8", np.array([0.25, np.nan, -1e300])),
            CopyColumn("date", np.array([19_732, 0, 19_733]), np.array([False, True, False])),
            CopyColumn("text", from_texts(["Champions", "x", "Can't lose them"])),
            CopyColumn("jsonb", json_text, np.array([False, False, False])),
        ),
        3,
    )


@pytest.fixture
def pg(pg_url: str) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection to the test database."""
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        yield connection


def test_binary_copy_writes_every_type_and_null(pg: psycopg.Connection) -> None:
    rows = _rows()
    pg.execute("CREATE TEMP TABLE t (a int8, b int4, c float8, d date, e text, f jsonb)")

    with pg.cursor() as cursor, cursor.copy("COPY t FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(HEADER + encode_records(rows.columns, rows.rows) + TRAILER)

    assert pg.execute("SELECT * FROM t ORDER BY b").fetchall() == [
        (1, -5, 0.25, date(2024, 1, 10), "Champions", ["silent for 3 weeks"]),
        (2, 0, None, None, "x", []),
        (None, 7, -1e300, date(2024, 1, 11), "Can't lose them", [{"product_id": 7}]),
    ]


def test_binary_copy_reads_arrays_of_a_query(pg: psycopg.Connection) -> None:
    query = (
        "SELECT array_agg(n), array_agg(at), array_agg(x), array_agg(flag) FROM (VALUES "
        "(3::int8, timestamptz '2024-01-10 12:00Z', 0.5::float8, true), "
        "(-4, timestamptz '1969-12-31 18:00Z', -2.0, false)) v(n, at, x, flag)"
    )
    empty = "SELECT array_agg(n) FROM (SELECT 1::int8 AS n WHERE false) v"

    with pg.cursor() as cursor:
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        with cursor.copy(f"COPY ({empty}) TO STDOUT (FORMAT BINARY)") as copy:
            nothing = b"".join(bytes(chunk) for chunk in copy)

    n, at, x, flag = read_arrays(data, ["int8", "timestamptz", "float8", "bool"])
    assert (n.tolist(), at.tolist(), x.tolist(), flag.tolist()) == (
        [3, -4],
        [19732.5, -0.25],
        [0.5, -2.0],
        [True, False],
    )
    assert [column.size for column in read_arrays(nothing, ["int8"])] == [0]


def test_sqlite_parameters_carry_nulls_dates_and_json_text() -> None:
    assert sqlite_rows(_rows()) == [
        (1, -5, 0.25, "2024-01-10", "Champions", '["silent for 3 weeks"]'),
        (2, 0, None, None, "x", "[]"),
        (None, 7, -1e300, "2024-01-11", "Can't lose them", '[{"product_id": 7}]'),
    ]


def test_a_slice_of_rows_keeps_its_strings() -> None:
    part = _rows().slice(1, 3)

    assert sqlite_rows(part) == [
        (2, 0, None, None, "x", "[]"),
        (None, 7, -1e300, "2024-01-11", "Can't lose them", '[{"product_id": 7}]'),
    ]
