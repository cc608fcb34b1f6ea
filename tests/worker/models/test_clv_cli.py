"""`lifecycle clv fit`: JSON output from summary and transaction files, clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifetimes.utils import summary_data_from_transaction_data
from typer.testing import CliRunner, Result

from cli.clv import app
from worker.models import bgnbd, gamma_gamma

PURCHASES = bgnbd.BGNBDParams(r=0.24, alpha=4.41, a=0.79, b=2.43)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["fit", *map(str, args)])


def write_summary_csv(path: Path, seed: int, n: int = 3_000, monetary: bool = True) -> Path:
    """Simulated summary with an id column first and an extra column the command ignores."""
    rng = np.random.default_rng(seed)
    x, recency, age = bgnbd.simulate(PURCHASES, n, np.ceil(rng.uniform(26.0, 78.0, n)), rng)
    recency = np.floor(recency)
    frame = pd.DataFrame({"customer_id": np.arange(n), "T": age, "recency": recency})
    frame["frequency"] = x
    frame["segment"] = "any"
    if monetary:
        frame["monetary_value"] = np.where(x > 0, rng.gamma(6.0, 5.0, n) + 1.0, 0.0)
    frame.to_csv(path, index=False)
    return path


def write_transactions_csv(path: Path, seed: int, customers: int = 1_500) -> pd.DataFrame:
    """BG/NBD-like log: string customer ids, ISO dates (some with a time of day), amounts."""
    rng = np.random.default_rng(seed)
    first_hour = rng.integers(0, 300 * 24, customers)
    age = 365 * 24 - first_hour
    rate = rng.gamma(PURCHASES.r, 1.0 / (PURCHASES.alpha * 24 * 7), customers)
    arrivals = rng.poisson(rate * age)
    repeats = np.minimum(arrivals, rng.geometric(rng.beta(PURCHASES.a, PURCHASES.b, customers)))
    # The first `repeats` of `arrivals` uniform times in the customer's life, plus the first buy.
    owner = np.repeat(np.arange(customers), arrivals)
    offset = rng.uniform(0.0, age[owner])
    order = np.lexsort((offset, owner))
    owner, offset = owner[order], offset[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    kept = rank < repeats[owner]
    customer = np.concatenate([np.arange(customers), owner[kept]])
    hour = np.concatenate([first_hour, first_hour[owner[kept]] + offset[kept].astype(np.int64)])
    stamp = pd.Timestamp("2021-01-01") + pd.to_timedelta(hour, "h")
    frame = pd.DataFrame(
        {
            "note": "x",
            "customer": [f"c{c}" for c in customer],
            "when": [s.isoformat(sep=" ") if s.hour else s.date().isoformat() for s in stamp],
            "amount": rng.gamma(2.0, 20.0, customer.size).round(2) + 0.5,
        }
    )
    frame.to_csv(path, index=False)
    return frame


def output_of(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


def test_fit_prints_one_json_object_with_both_models(tmp_path: Path) -> None:
    path = write_summary_csv(tmp_path / "summary.csv", seed=41)
    output = output_of(run(path))

    frame = pd.read_csv(path)
    x, recency, age = frame["frequency"], frame["recency"], frame["T"]
    purchases = bgnbd.fit(x, recency, age)
    spend = gamma_gamma.fit(x, frame["monetary_value"])
    assert set(output) == {"customers", "bgnbd", "gamma_gamma", "seconds"}
    assert output["customers"] == len(frame)
    assert output["bgnbd"] == pytest.approx(
        {
            "r": purchases.r,
            "alpha": purchases.alpha,
            "a": purchases.a,
            "b": purchases.b,
            "log_likelihood": purchases.log_likelihood,
        },
        rel=1e-12,
    )
    assert output["gamma_gamma"] == pytest.approx(
        {"p": spend.p, "q": spend.q, "v": spend.v}, rel=1e-12
    )
    assert isinstance(output["seconds"], float) and output["seconds"] >= 0


def test_fit_without_monetary_value_leaves_out_gamma_gamma(tmp_path: Path) -> None:
    path = write_summary_csv(tmp_path / "summary.csv", seed=42, monetary=False)
    output = output_of(run(path))
    assert set(output) == {"customers", "bgnbd", "seconds"}


@pytest.mark.parametrize(
    ("freq", "observation_end"), [("D", None), ("W", None), ("D", "2021-10-31")]
)
def test_fit_from_transactions_summarises_like_lifetimes(
    tmp_path: Path, freq: str, observation_end: str | None
) -> None:
    path = tmp_path / "transactions.csv"
    log = write_transactions_csv(path, seed=43)
    args: list[str | Path] = ["--transactions", path, "--customer-col", "customer"]
    args += ["--date-col", "when", "--amount-col", "amount", "--freq", freq]
    if observation_end:
        args += ["--observation-end", observation_end]
    output = output_of(run(*args))

    log["when"] = pd.to_datetime(log["when"], format="ISO8601")
    summary = summary_data_from_transaction_data(
        log, "customer", "when", "amount", observation_period_end=observation_end, freq=freq
    )
    purchases = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
    spend = gamma_gamma.fit(summary["frequency"], summary["monetary_value"])
    assert output["customers"] == len(summary)
    assert output["bgnbd"] == pytest.approx(
        {"r": purchases.r, "alpha": purchases.alpha, "a": purchases.a, "b": purchases.b}
        | {"log_likelihood": purchases.log_likelihood},
        rel=1e-9,
    )
    assert output["gamma_gamma"] == pytest.approx(
        {"p": spend.p, "q": spend.q, "v": spend.v}, rel=1e-9
    )


SUMMARY_HEADER = "frequency,recency,T,monetary_value\n"


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        (SUMMARY_HEADER + "1,2,3,10\n1,x,3,10\n", 3, "recency"),
        (SUMMARY_HEADER + "1,2,3,10\n\n2,2\n", 4, "T"),
        (SUMMARY_HEADER + "1.5,2,3,10\n", 2, "frequency"),
        (SUMMARY_HEADER + "1,5,3,10\n", 2, "recency"),
        (SUMMARY_HEADER + "0,1,3,0\n", 2, "recency"),
        (SUMMARY_HEADER + "2,2,3,10\n1,2,3,-4\n", 3, "monetary_value"),
        (SUMMARY_HEADER + "1,2,nan,10\n", 2, "T"),
        ("frequency,T\n1,3\n", 1, "recency"),
    ],
    ids=[
        "not-a-number",
        "short-row",
        "fractional-frequency",
        "recency-after-T",
        "recency-without-purchase",
        "negative-spend",
        "nan",
        "missing-column",
    ],
)
def test_malformed_summary_names_line_and_column(
    tmp_path: Path, content: str, line: int, column: str
) -> None:
    path = tmp_path / "summary.csv"
    path.write_text(content)
    result = run(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"line {line}, column '{column}'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        ("id,day,amount\na,2021-01-01,3\nb,01/02/2021,4\n", 3, "day"),
        ("id,day,amount\na,2021-01-01,3\nb,2021-01-02,four\n", 3, "amount"),
        ("id,day,amount\na,2021-01-01,3\n,2021-01-02,4\n", 3, "id"),
    ],
    ids=["bad-date", "bad-amount", "missing-customer"],
)
def test_malformed_transactions_name_line_and_column(
    tmp_path: Path, content: str, line: int, column: str
) -> None:
    path = tmp_path / "transactions.csv"
    path.write_text(content)
    result = run(
        "--transactions",
        path,
        "--customer-col",
        "id",
        "--date-col",
        "day",
        "--amount-col",
        "amount",
    )
    assert result.exit_code == 2
    assert f"line {line}, column '{column}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text("")
    result = run(path)
    assert result.exit_code == 2
    assert "line 1" in result.stderr and "header" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["summary.csv", "--transactions", "transactions.csv"],
        ["--transactions", "transactions.csv", "--date-col", "day"],
        ["missing.csv"],
        [
            *("--transactions", "transactions.csv", "--customer-col", "id"),
            *("--date-col", "day", "--observation-end", "yesterday"),
        ],
    ],
    ids=["no-input", "two-inputs", "no-customer-column", "missing-file", "bad-observation-end"],
)
def test_wrong_invocations_exit_with_code_2(tmp_path: Path, args: list[str]) -> None:
    write_summary_csv(tmp_path / "summary.csv", seed=44, n=100)
    with (tmp_path / "transactions.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["id", "day"], ["a", "2021-01-01"], ["a", "2021-02-01"]])
    result = run(*(str(tmp_path / a) if a.endswith(".csv") else a for a in args))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr


def test_bytes_that_are_not_utf8_are_reported_on_their_line(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_bytes(SUMMARY_HEADER.encode() + b"1,2,3,10\n1,2,3,\xff10\n")
    result = run(path)
    assert result.exit_code == 2
    assert "line 3: not UTF-8 text" in result.stderr
