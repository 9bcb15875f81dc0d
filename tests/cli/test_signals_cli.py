"""`python -m alchemiser signals`: the output contract other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser.cli.main import main
from tests.strategy.symphony_gen import synthetic_bars

ROOT = Path(__file__).resolve().parents[2]
SYMPHONY = """(defsymphony "cli" {}
  (weight-equal [(filter (rsi {:window 10}) (select-top 2)
                         [(asset "AAA") (asset "BBB") (asset "CCC")])
                 (asset "CCC")]))
"""


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    folder = tmp_path / "prices"
    folder.mkdir()
    for symbol, bars in synthetic_bars(
        ["AAA", "BBB", "CCC"], date(2023, 1, 2), date(2024, 6, 28)
    ).items():
        rows = [f"{b.session},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in bars]
        (folder / f"{symbol}.csv").write_text("date,open,high,low,close,volume\n" + "\n".join(rows))
    return folder


@pytest.fixture
def strategy(tmp_path: Path) -> Path:
    path = tmp_path / "cli.clj"
    path.write_text(SYMPHONY)
    return path


def test_one_strategy_as_json_prints_exactly_one_object_summing_to_one(
    prices: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["signals", "--strategy", str(strategy), "--prices", str(prices)]
    code = main([*argv, "--as-of", "2024-06-28", "--format", "json", "--timing", "--explain"])
    out, err = capsys.readouterr()
    assert code == 0
    weights = json.loads(out)
    assert out.count("\n") == 1
    assert sum(Decimal(v) for v in weights.values()) == 1
    assert all(isinstance(v, str) for v in weights.values())
    assert "filter rsi(*, 10) select-top 2" in err
    assert err.strip().splitlines()[-1].startswith("seconds=")
    float(err.strip().splitlines()[-1].split("=")[1])


def test_table_format_and_a_weighted_portfolio(
    prices: Path, strategy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "portfolio.yaml"
    config.write_text(
        "strategies:\n"
        "  - {name: fixed, kind: fixed, allocation: 0.5, weights: {AAA: 1}}\n"
        "  - {name: sym, kind: symphony, allocation: 0.5, path: cli.clj}\n"
    )
    code = main(
        ["signals", "--portfolio", str(config), "--prices", str(prices), "--as-of", "2024-06-28"]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert "symbol  weight" in out
    assert "sym (50.00%)" in out


def test_errors_go_to_stderr_with_a_non_zero_exit(
    prices: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.clj"
    bad.write_text(
        '(defsymphony "x" {} (if (> (rsi "ZZZ" {:window 3}) 1) (asset "AAA") (asset "BBB")))'
    )
    code = main(
        [
            "signals",
            "--strategy",
            str(bad),
            "--prices",
            str(prices),
            "--as-of",
            "2024-06-28",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "error: strategy 'bad' failed:" in err
    assert "bad.clj:1:" in err


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alchemiser", "signals", *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": str(ROOT / "include"), "PATH": "/usr/bin:/bin"},
    )


def test_the_module_runs_as_a_program(prices: Path, strategy: Path) -> None:
    result = _program("--strategy", str(strategy), "--prices", str(prices), "--as-of", "2024-06-28")
    assert result.returncode == 0, result.stderr
    assert sum(Decimal(v) for v in json.loads(result.stdout).values()) == 1


def test_a_share_class_in_the_symphony_is_read_from_its_underscored_file(
    tmp_path: Path,
) -> None:
    """Composer's `BRK/B` is Alpaca's `BRK.B` and the prices folder's `BRK_B.csv`."""
    folder = tmp_path / "prices"
    folder.mkdir()
    # BRK.B rises steadily, so its RSI tops the filter: a silent drop would pick AAA and BBB.
    walk = synthetic_bars(["AAA", "BBB"], date(2024, 1, 1), date(2024, 6, 28))
    for symbol, bars in walk.items():
        rows = [f"{b.session},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in bars]
        (folder / f"{symbol}.csv").write_text("date,open,high,low,close,volume\n" + "\n".join(rows))
    rising = [
        f"{b.session},{i + 100},{i + 100},{i + 100},{i + 100},1000"
        for i, b in enumerate(walk["AAA"])
    ]
    (folder / "BRK_B.csv").write_text("date,open,high,low,close,volume\n" + "\n".join(rising))
    path = tmp_path / "brk.clj"
    path.write_text(
        '(defsymphony "brk" {} (filter (rsi {:window 10}) (select-top 1)'
        ' [(asset "AAA") (asset "BRK/B") (asset "BBB")]))'
    )
    result = _program("--strategy", str(path), "--prices", str(folder), "--as-of", "2024-06-28")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"BRK.B": "1"}


HEAVY = ("pandas", "pyarrow", "alpaca", "boto3", "botocore", "airflow")


def test_signals_starts_without_the_heavy_libraries(prices: Path, strategy: Path) -> None:
    """Its start-up is most of its wall time: a CLI for one file must not pay for the rest."""
    argv = ["signals", "--strategy", str(strategy), "--prices", str(prices)]
    argv += ["--as-of", "2024-06-28", "--format", "json"]
    probe = (
        "import sys; from alchemiser.cli.main import main; code = main(sys.argv[1:]); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": str(ROOT / "include"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_a_symbol_without_bars_is_warned_about_without_explain(
    prices: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.clj"
    typo.write_text('(defsymphony "x" {} (weight-equal [(asset "AAA") (asset "AAAA")]))')
    argv = ["signals", "--strategy", str(typo), "--prices", str(prices), "--as-of", "2024-06-28"]
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out) == {"AAA": "0.5", "AAAA": "0.5"}
    assert "warning: typo: no bars for AAAA: held anyway (is the ticker right?)" in err


def test_a_python_file_given_as_strategy_runs_as_a_python_strategy(
    prices: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_file = tmp_path / "pick.py"
    code_file.write_text('SYMBOLS = ("AAA",)\n\ndef weights(view):\n    return {"AAA": 1.0}\n')
    argv = ["signals", "--strategy", str(code_file), "--prices", str(prices)]
    code = main([*argv, "--as-of", "2024-06-28", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out) == {"AAA": "1"}


def test_a_misspelt_portfolio_key_is_named_without_claiming_the_list_is_empty(
    prices: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "portfolio.yaml"
    config.write_text(
        "strategies:\n  - {name: fixed, kind: fixed, allocation: 1, weigths: {AAA: 1}}\n"
    )
    argv = ["signals", "--portfolio", str(config), "--prices", str(prices)]
    code = main([*argv, "--as-of", "2024-06-28"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "strategies.0.fixed.weigths: Extra inputs are not permitted" in err
    assert "at least 1 item" not in err


def test_prices_that_stop_long_before_the_as_of_date_are_refused_naming_the_symbol(
    prices: Path, strategy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bbb = prices / "BBB.csv"
    lines = bbb.read_text().splitlines()
    bbb.write_text("\n".join(line for line in lines if line < "2024-03-01" or line[0] == "d"))
    argv = ["signals", "--strategy", str(strategy), "--prices", str(prices)]
    code = main([*argv, "--as-of", "2024-06-28", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "prices stop more than 7 days before --as-of 2024-06-28 (BBB ends 2024-02-29)" in err
    # As of a date they cover the same files are fine, and so 4 days past BBB's end (as far
    # as a weekend and a holiday put the last session).
    assert main([*argv, "--as-of", "2024-02-29", "--format", "json"]) == 0
    assert main([*argv, "--as-of", "2024-03-04", "--format", "json"]) == 0
