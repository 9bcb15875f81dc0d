"""How long the dag-processor spends on dags/daily_rebalance.py, relative to a trivial DAG.

Each sample is a fresh interpreter, so nothing is cached between samples. `import airflow.sdk`
(1-2.5 s, the same for every DAG file) is done before the clock starts; what is timed is
executing the DAG file itself. The ratio of medians against a one-task DAG measured in the
same run is the number to watch: it is stable across machines where the milliseconds are not.
A second measurement goes through `DagBag`, which is what `airflow dags report` shows (wall and
CPU time, the CPU ratio being the steadier on a shared machine); the third
is `airflow dags report` itself in a fresh process, as the dag-processor's numbers are read (the
CLI has loaded more of Airflow before it parses). The team's bound: at most 2x a trivial DAG.

Two references, both measured the same way: the one-task trivial DAG, and the *same shape*: a
file generated from daily_rebalance itself with its task ids, edges and Params, every task an
EmptyOperator and the schedule a plain cron. The same shape is what stock Airflow costs for this
DAG before any code of ours runs (each operator copies the Params, each Param is checked against
its JSON schema); the ratio against it is what our operators, sensor, timetable and plugin
modules add. Bytecode is cached (PYTHONPYCACHEPREFIX in the work folder, written by one parse
before the samples), as a dag-processor that parsed the file before has it, even where the
environment sets PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.benchmarks import BenchContext, BenchmarkFailedError, Row

DAG_FILE = Path("dags/daily_rebalance.py")
HEAVY = ("alpaca", "pandas", "boto3", "botocore", "numpy", "exchange_calendars")
MARKER = "BENCH_RESULT "
CHILD_TIMEOUT_SECONDS = 60
AIRFLOW = Path(sys.executable).with_name("airflow")

WARMUP_DAG = """\
from airflow.sdk import DAG

with DAG(dag_id="bench_warmup", schedule=None):
    pass
"""

TRIVIAL_DAG = '''\
"""A one-task DAG: the baseline every parse time is compared with."""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    dag_id="bench_trivial",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
):
    EmptyOperator(task_id="only")
'''

# Runs in the child: exec one DAG file after `import airflow.sdk`, report time and new modules.
EXEC_CHILD = """
import importlib.util, json, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
heavy = set(sys.argv[2].split(","))
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("bench_dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
t2 = time.perf_counter()
spec.loader.exec_module(module)
t3 = time.perf_counter()
new = {name.split(".")[0] for name in set(sys.modules) - before}
print("MARKER" + json.dumps({
    "sdk_ms": (t1 - t0) * 1000,
    "exec_ms": (t3 - t2) * 1000,
    "new_packages": sorted(new),
    "heavy": sorted(new & heavy),
    "heavy_anywhere": sorted(heavy & {name.split(".")[0] for name in sys.modules}),
}))
""".replace("MARKER", MARKER)

# Runs in the child: write the same-shape DAG's source from the DAG file's tasks, edges, Params.
SHAPE_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("bench_dag_shape_of", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag = module.dag
lines = [
    '\"\"\"The shape of ' + dag.dag_id + ' in stock Airflow parts.\"\"\"',
    "import pendulum",
    "from airflow.providers.standard.operators.empty import EmptyOperator",
    "from airflow.sdk import DAG, Param",
    "with DAG(dag_id='bench_same_shape', schedule='30 15 * * 1-5',",
    "         start_date=pendulum.datetime(2026, 1, 1, tz='America/New_York'), params={",
]
for name, param in dag.params.items():
    args = [repr(param.value)]
    for k, v in param.schema.items():  # a key such as $schema is no keyword: **{key: value}
        args.append(f"{k}={v!r}" if k.isidentifier() else f"**{{{k!r}: {v!r}}}")
    lines.append(f"    {name!r}: Param({', '.join(args)}),")
lines.append("}):")
lines += [f"    {t.task_id} = EmptyOperator(task_id={t.task_id!r})" for t in dag.tasks]
lines += [f"    {t.task_id} >> {d}" for t in dag.tasks for d in sorted(t.downstream_task_ids)]
print("MARKER" + json.dumps({"source": "\\n".join(lines) + "\\n"}))
""".replace("MARKER", MARKER)

# Runs in the child: warm DagBag's own lazy imports up on a DAG that imports nothing but
# airflow.sdk (so the file under test still pays for its operators), then parse that file.
DAGBAG_CHILD = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
DagBag(dag_folder=sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
bag = DagBag(dag_folder=sys.argv[2])
t1, c1 = time.perf_counter(), time.process_time()
if bag.import_errors or not bag.dag_ids:
    raise SystemExit(f"{sys.argv[2]}: {bag.import_errors or 'no DAG found'}")
report_ms = bag.dagbag_stats[0].duration.total_seconds() * 1000
print("MARKER" + json.dumps({
    "wall_ms": (t1 - t0) * 1000, "cpu_ms": (c1 - c0) * 1000, "report_ms": report_ms,
}))
""".replace("MARKER", MARKER)


def _child_env(ctx: BenchContext) -> dict[str, str]:
    env = dict(os.environ)
    path = [str(ctx.root / "include"), str(ctx.root / "plugins")]
    env.update(
        {
            "AIRFLOW_HOME": str(ctx.workdir / "airflow_home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ctx.workdir),
            "PYTHONPATH": os.pathsep.join(p for p in (*path, env.get("PYTHONPATH", "")) if p),
            "PYTHONPYCACHEPREFIX": str(ctx.workdir / "pycache"),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run_child(ctx: BenchContext, code: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=CHILD_TIMEOUT_SECONDS,
        cwd=ctx.root,
        env=_child_env(ctx),
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
    raise BenchmarkFailedError(f"child exited {proc.returncode}:\n" + "\n".join(tail))


def _airflow(ctx: BenchContext, *args: str, folder: Path | None = None) -> str:
    env = _child_env(ctx)
    if folder is not None:
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(folder)
    proc = subprocess.run(
        [str(AIRFLOW), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=CHILD_TIMEOUT_SECONDS * 5,
        cwd=ctx.root,
        env=env,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise BenchmarkFailedError(
            f"airflow {' '.join(args)} exited {proc.returncode}:\n" + "\n".join(tail)
        )
    return proc.stdout


def _report_ms(ctx: BenchContext, folder: Path) -> float:
    """Return the parse time `airflow dags report` gives the one file in `folder`."""
    out = _airflow(ctx, "dags", "report", "-o", "json", folder=folder)
    lines = [line for line in out.splitlines() if line.startswith("[")]
    if not lines:
        raise BenchmarkFailedError(f"airflow dags report printed no JSON:\n{out[-2000:]}")
    (entry,) = json.loads(lines[-1])
    hours, minutes, seconds = str(entry["duration"]).split(":")
    return (int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000


def _ms(values: list[float], label: str) -> list[Row]:
    return [
        {"metric": f"{label} median", "value": round(statistics.median(values), 2), "unit": "ms"},
        {"metric": f"{label} min", "value": round(min(values), 2), "unit": "ms"},
    ]


def _ratio(label: str, dag: list[float], trivial: list[float]) -> Row:
    value = statistics.median(dag) / statistics.median(trivial)
    return {"metric": f"{label} ratio (median)", "value": round(value, 2), "unit": "x"}


def run(ctx: BenchContext) -> list[Row]:
    """Measure exec and DagBag parse time of the DAG file against a trivial DAG."""
    dag_file = ctx.root / DAG_FILE
    trivial = ctx.workdir / "bench_trivial.py"
    shape = ctx.workdir / "bench_same_shape.py"
    warmup = ctx.workdir / "warmup" / "bench_warmup.py"
    warmup.parent.mkdir(parents=True, exist_ok=True)
    trivial.write_text(TRIVIAL_DAG, encoding="utf-8")
    shape.write_text(_run_child(ctx, SHAPE_CHILD, str(dag_file))["source"], encoding="utf-8")
    warmup.write_text(WARMUP_DAG, encoding="utf-8")
    heavy = ",".join(HEAVY)
    files = {"trivial": trivial, "shape": shape, "dag": dag_file}
    # `airflow dags report` parses a whole folder: one folder per file, on a migrated home.
    folders = {key: ctx.workdir / f"report-{key}" for key in files}
    for key, source in files.items():
        folders[key].mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folders[key] / source.name)
    _airflow(ctx, "db", "migrate")
    for key, path in files.items():  # one parse each writes the bytecode the samples read
        _run_child(ctx, DAGBAG_CHILD, str(warmup), str(path))
        _report_ms(ctx, folders[key])
    report_ms: dict[str, list[float]] = {key: [] for key in files}
    exec_ms: dict[str, list[float]] = {key: [] for key in files}
    sdk_ms: list[float] = []
    bag_ms: dict[str, list[float]] = {key: [] for key in files}
    bag_cpu_ms: dict[str, list[float]] = {key: [] for key in files}
    first_dag_sample: dict[str, Any] = {}
    heavy_seen: set[str] = set()
    for _ in range(ctx.repeat):
        # Alternate the files so drift on a busy machine hits them alike.
        for key, path in files.items():
            sample = _run_child(ctx, EXEC_CHILD, str(path), heavy)
            exec_ms[key].append(float(sample["exec_ms"]))
            sdk_ms.append(float(sample["sdk_ms"]))
            if key == "dag":
                first_dag_sample = first_dag_sample or sample
                heavy_seen.update(sample["heavy"])
            bag = _run_child(ctx, DAGBAG_CHILD, str(warmup), str(path))
            bag_ms[key].append(float(bag["report_ms"]))
            bag_cpu_ms[key].append(float(bag["cpu_ms"]))
            report_ms[key].append(_report_ms(ctx, folders[key]))

    name = DAG_FILE.stem
    return [
        *_ms(exec_ms["dag"], f"exec {name}"),
        *_ms(exec_ms["trivial"], "exec trivial DAG"),
        _ratio("exec", exec_ms["dag"], exec_ms["trivial"]),
        *_ms(bag_ms["dag"], f"DagBag {name}"),
        *_ms(bag_ms["trivial"], "DagBag trivial DAG"),
        _ratio("DagBag", bag_ms["dag"], bag_ms["trivial"]),
        # CPU time of the same parses: what a loaded machine's wall clock inflates.
        *_ms(bag_cpu_ms["dag"], f"DagBag CPU {name}"),
        *_ms(bag_cpu_ms["trivial"], "DagBag CPU trivial DAG"),
        _ratio("DagBag CPU", bag_cpu_ms["dag"], bag_cpu_ms["trivial"]),
        *_ms(report_ms["dag"], f"airflow dags report {name}"),
        *_ms(report_ms["trivial"], "airflow dags report trivial DAG"),
        *_ms(report_ms["shape"], "airflow dags report same shape, stock parts"),
        _ratio("airflow dags report (bound 2x)", report_ms["dag"], report_ms["trivial"]),
        _ratio("airflow dags report, shape vs trivial", report_ms["shape"], report_ms["trivial"]),
        _ratio("airflow dags report, ours vs same shape", report_ms["dag"], report_ms["shape"]),
        _ratio("DagBag CPU, ours vs same shape", bag_cpu_ms["dag"], bag_cpu_ms["shape"]),
        *_ms(sdk_ms, "import airflow.sdk (not counted)"),
        {
            "metric": f"heavy modules loaded by {name}",
            "value": sorted(heavy_seen),
            "unit": "",
            "ok": not heavy_seen,
        },
        {
            "metric": f"packages first loaded by {name}",
            "value": first_dag_sample.get("new_packages", []),
            "unit": "",
        },
        {
            "metric": "heavy modules loaded at all (sdk + DAG)",
            "value": first_dag_sample.get("heavy_anywhere", []),
            "unit": "",
        },
    ]
