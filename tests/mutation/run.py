"""`make mutation`: mutation testing of the critical modules (issue 19), with mutmut 3.

Each module named in ``tests/mutation/modules.toml`` is mutated on a temporary copy of the tree
(never the working tree) and checked against its own tests only. The runner prints each module's
kill rate and its survivors, and writes a report (``var/mutation/report.md`` unless told).

A survivor listed in ``tests/mutation/equivalent.toml`` (mutant name and one line on why) is an
equivalent mutant: it changes no behaviour, so it counts neither as killed nor as survived.

Kill rate = (killed + timed out) / (all mutants - equivalent ones). A mutant that no test reaches
("no tests") counts as a survivor.

The tests run on SQLite, two mutants at a time. SQLite never interleaves two transactions, so a
guard that only concurrency or a row lock shows cannot fail there: a module's PostgreSQL stage
(``[modules.NAME.postgres]``: ``mutants``, fnmatch patterns; ``tests``) runs the mutants it names
on PostgreSQL, one at a time, against its tests; those killed there count as killed. They run no
test on SQLite (each was listed as a survivor there): the SQLite run counts them as survivors
at once instead of running every test of their function for nothing.

Usage: python tests/mutation/run.py [--only NAME ...] [--report PATH] [--max-children N]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
KILLED = {1, 3, 24, -24, 36, 152, 255, 37}
SURVIVED = {0, 5, 33}


@dataclass
class Outcome:
    name: str
    source: str
    killed: int = 0
    survived: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    killed_on_postgres: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # listed as equivalent, yet killed
    other: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    diffs: dict[str, str] = field(default_factory=dict)
    error: str = ""

    @property
    def counted(self) -> int:
        return self.killed + len(self.survived)

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0


_HYPOTHESIS_PROFILE = """

from hypothesis import HealthCheck as _HealthCheck
from hypothesis import settings as _settings

_settings.register_profile(
    "mutation", deadline=None, suppress_health_check=list(_HealthCheck), derandomize=True
)
_settings.load_profile("mutation")
"""


_POSTGRES_ONLY = """

def pytest_collection_modifyitems(config, items):
    # tests/mutation/run.py: a mutant that the module's PostgreSQL stage names runs no test on
    # SQLite (pytest's exit code 5, a survivor there), and is judged by the stage alone.
    import fnmatch as _fnmatch
    import json as _json
    import os as _os

    patterns = _json.loads(_os.environ.get("NUANXIN_MUTATION_POSTGRES_ONLY", "[]"))
    mutant = _os.environ.get("MUTANT_UNDER_TEST", "")
    if any(_fnmatch.fnmatch(mutant, pattern) for pattern in patterns):
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
"""


def _copy_tree(work: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", "mutants")
    (work / "src").mkdir(parents=True)
    shutil.copytree(ROOT / "platform" / "src" / "nuanxin", work / "src" / "nuanxin", ignore=ignore)
    shutil.copytree(
        ROOT / "matching" / "src" / "matching", work / "src" / "matching", ignore=ignore
    )
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    # Read-only resources the platform finds beside its package (settings.ROOT): linked, not copied.
    # mutmut runs the tests from ``mutants/``, so they look for them there too.
    (work / "mutants").mkdir()
    for name in ("frontend", "fixtures", "README.md", "Makefile"):
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
            (work / "mutants" / name).symlink_to(ROOT / name)
    conftest_path = work / "tests" / "conftest.py"
    # _POSTGRES_ONLY's hook would replace one of the conftest's own.
    assert "pytest_collection_modifyitems" not in conftest_path.read_text(encoding="utf-8")
    # On a loaded machine a slow property test must not fail the clean run (or pass as a kill):
    # no deadline, no health checks, the same examples for every mutant.
    with conftest_path.open("a", encoding="utf-8") as conftest:
        conftest.write(_HYPOTHESIS_PROFILE)
        conftest.write(_POSTGRES_ONLY)


# mutmut runs pytest again in one process for every mutant: pytest's hunt for unraisable and
# thread exceptions ends each of those runs with full garbage collections of that process
# (about a second each time); the normal suite keeps both checks.
_PYTEST_ARGS = ["-p", "no:cacheprovider", "-p", "no:randomly"]
_PYTEST_ARGS += ["-p", "no:unraisableexception", "-p", "no:threadexception"]
# Faker's plugin (Faker comes with a dependency; no test uses it) builds a Faker per session:
# half a second of imports per mutant.
_PYTEST_ARGS += ["-p", "no:faker"]


TIMEOUT_KEYS = ("timeout_multiplier", "timeout_constant")
"""Optional per module in modules.toml: a mutant is stopped (and counts as killed) after
(its tests' time in the clean run + constant) x multiplier seconds; mutmut's defaults are
15 and 1, which let a mutant that loops for ever cost a minute or more."""


def _pyproject(source: str, tests: list[str], spec: dict[str, object] | None = None) -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    module = source.split("/src/", 1)[1]
    timeouts = "".join(
        f"{key} = {float(spec[key])}\n"  # type: ignore[arg-type]
        for key in TIMEOUT_KEYS
        if spec and key in spec
    )
    return (
        text
        + "\n[tool.mutmut]\n"
        + 'source_paths = ["src"]\n'
        + f"only_mutate = {json.dumps(['src/' + module])}\n"
        + f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        + f"pytest_add_cli_args = {json.dumps(_PYTEST_ARGS)}\n"
        + "use_git_change_detection = false\n"
        + timeouts
    )


def _results(work: Path) -> dict[str, int | None]:
    exit_codes: dict[str, int | None] = {}
    for meta in (work / "mutants").rglob("*.py.meta"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        exit_codes.update(data.get("exit_code_by_key", {}))
    return exit_codes


def _mutmut(
    work: Path,
    source: str,
    tests: list[str],
    spec: dict[str, object],
    *,
    children: int,
    database: str,
    names: list[str] | None = None,
    postgres_only: list[str] | None = None,
    again: bool = False,
) -> tuple[dict[str, int | None], str, dict[str, str]]:
    """One ``mutmut run`` on a fresh copy of the tree in ``work`` (``again``: in the copy a run
    left there, whose mutants mutmut keeps): the exit code of each mutant, the run's output, and
    the environment it ran in (for ``mutmut show``). The mutants matching ``postgres_only``
    (fnmatch) run no test (see ``_POSTGRES_ONLY``)."""
    if not again:
        _copy_tree(work)
    (work / "pyproject.toml").write_text(_pyproject(source, tests, spec), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUANXIN_VAR_DIR")}
    env["NUANXIN_TEST_DATABASE"] = database
    # The database migrated and the app built once, before mutmut forks its children (see
    # tests/conftest.py): each child copies them instead of paying for them per mutant.
    env["NUANXIN_TEST_WARM"] = "1"
    env["NUANXIN_MUTATION_POSTGRES_ONLY"] = json.dumps(postgres_only or [])
    command = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run"]
    command += ["--max-children", str(children), *(names or [])]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    return _results(work), (done.stdout[-3000:] + done.stderr[-3000:]).strip(), env


def _on_postgres(work: Path, spec: dict[str, object], survivors: list[str]) -> tuple[set[str], str]:
    """The survivors named by the module's PostgreSQL stage, run again on PostgreSQL against its
    tests, one child at a time: the ones killed there, and the stage's error if it failed.

    In the SQLite run's copy (``work``): mutmut keeps the mutants it generated there (tens of
    seconds for a large module) and collects its stats again for the stage's tests."""
    stage = spec.get("postgres")
    if not isinstance(stage, dict) or not survivors:
        return set(), ""
    patterns = [str(p) for p in stage["mutants"]]
    chosen = [key for key in survivors if any(fnmatch.fnmatch(key, p) for p in patterns)]
    if not chosen:
        return set(), ""
    tests = [str(t) for t in stage["tests"]]
    codes, output, _ = _mutmut(
        work,
        str(spec["source"]),
        tests,
        spec,
        children=1,
        database="postgres",
        names=chosen,
        again=True,
    )
    ran = {key: code for key, code in codes.items() if key in chosen}
    error = "" if ran and None not in ran.values() else (output or "no mutant ran")
    return {key for key, code in ran.items() if code in KILLED}, error


def run_module(
    name: str, spec: dict[str, object], equivalent: dict[str, str], children: int
) -> Outcome:
    source = str(spec["source"])
    tests = [str(t) for t in spec["tests"]]  # type: ignore[attr-defined]
    tests = [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    outcome = Outcome(name=name, source=source)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"nuanxin-mutation-{name}-"))
    try:
        stage = spec.get("postgres")
        codes, output, env = _mutmut(
            work,
            source,
            tests,
            spec,
            children=children,
            database="sqlite",
            postgres_only=[str(p) for p in stage["mutants"]] if isinstance(stage, dict) else [],
        )
        if not codes or None in codes.values():
            outcome.error = output or "no mutants"
        for key, code in sorted(codes.items()):
            if key in equivalent:
                outcome.equivalent.append(key)
                if code in KILLED:  # a stale entry: its number now names another mutant
                    outcome.stale.append(key)
            elif code in KILLED:
                outcome.killed += 1
            elif code in SURVIVED:
                outcome.survived.append(key)
            else:
                label = f"exit {code}"
                outcome.other[label] = outcome.other.get(label, 0) + 1
        killed_there, error = _on_postgres(work, spec, outcome.survived)
        outcome.killed_on_postgres = sorted(killed_there)
        outcome.killed += len(killed_there)
        outcome.survived = [key for key in outcome.survived if key not in killed_there]
        if error:
            outcome.error = (outcome.error + "\n" + f"PostgreSQL stage: {error}").strip()
        for key in outcome.survived:
            shown = subprocess.run(
                [sys.executable, "-m", "mutmut", "show", key],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            )
            outcome.diffs[key] = shown.stdout.strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    outcome.seconds = time.monotonic() - started
    return outcome


def _report(outcomes: list[Outcome]) -> str:
    lines = ["# Mutation testing of the critical modules", ""]
    lines += [
        "| module | killed | of them on PostgreSQL | survived | equivalent | other | kill rate "
        "| seconds |"
    ]
    lines += ["|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        other = ", ".join(f"{k}: {v}" for k, v in o.other.items()) or "-"
        lines.append(
            f"| {o.name} | {o.killed} | {len(o.killed_on_postgres)} | {len(o.survived)} "
            f"| {len(o.equivalent)} | {other} | {o.rate:.1f}% | {o.seconds:.0f} |"
        )
    total = sum(o.seconds for o in outcomes)
    lines += ["", f"All modules: {total:.0f} s ({total / 60:.1f} minutes)."]
    for o in outcomes:
        if o.error:
            lines += ["", f"## {o.name}: the run failed", "", "```", o.error, "```"]
        if o.stale:
            lines += ["", f"## Listed as equivalent in {o.name}, yet killed", ""]
            lines += [
                f"- {key} (the entry names another mutant since its function changed?)"
                for key in o.stale
            ]
        if o.survived:
            lines += ["", f"## Survivors in {o.name} ({o.source})", ""]
            for key in o.survived:
                lines += [f"### {key}", "", "```diff", o.diffs.get(key, ""), "```", ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="module names from modules.toml")
    parser.add_argument("--report", default=str(ROOT / "var" / "mutation" / "report.md"))
    parser.add_argument("--max-children", type=int, default=2)
    args = parser.parse_args()
    modules = tomllib.loads((HERE / "modules.toml").read_text(encoding="utf-8"))["modules"]
    listed = tomllib.loads((HERE / "equivalent.toml").read_text(encoding="utf-8"))
    equivalent = {e["mutant"]: e["why"] for e in listed.get("equivalent", [])}
    unknown = set(args.only) - set(modules)
    if unknown:
        parser.error(f"not in modules.toml: {', '.join(sorted(unknown))}")
    outcomes = []
    for name, spec in modules.items():
        if args.only and name not in args.only:
            continue
        outcome = run_module(name, spec, equivalent, args.max_children)
        outcomes.append(outcome)
        print(
            f"{name:28} {outcome.rate:5.1f}%  killed {outcome.killed} "
            f"(on PostgreSQL {len(outcome.killed_on_postgres)}), "
            f"survived {len(outcome.survived)}, equivalent {len(outcome.equivalent)}"
            f"{', ' + str(outcome.other) if outcome.other else ''}  ({outcome.seconds:.0f} s)",
            flush=True,
        )
        for key in outcome.survived:
            print(f"    survived: {key}", flush=True)
        for key in outcome.stale:
            print(f"    listed as equivalent, yet killed (stale entry?): {key}", flush=True)
        if outcome.error:
            print(f"    the run failed:\n{outcome.error}", flush=True)
    total = sum(o.seconds for o in outcomes)
    print(f"all modules: {total:.0f} s ({total / 60:.1f} minutes)", flush=True)
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(_report(outcomes), encoding="utf-8")
    print(f"report: {report}")
    return 1 if any(o.error or o.stale or o.rate < 90.0 for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
