"""moto is the `demo` extra, not a dependency: without it every command works, a scan of a real
(here: an HTTP-emulated) account included, and `auditor scan --demo` says in one line how to
get the demo. The commands run in one fresh interpreter in which `import moto` fails."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bench.moto_server import MotoServer

ROOT = Path(__file__).resolve().parent.parent
# `None` in sys.modules makes every `import moto` and `import moto.x` raise ModuleNotFoundError,
# as on a machine without it. One interpreter runs every command: a start-up each would cost
# more than the commands.
WITHOUT_MOTO = """
import json, sys
sys.modules["moto"] = None
from click.testing import CliRunner
from auditor.cli import main
results = {}
for name, args in json.loads(sys.argv[1]).items():
    result = CliRunner().invoke(main, args)
    results[name] = {"exit_code": result.exit_code, "stdout": result.stdout,
                     "stderr": result.stderr}
results["moto modules"] = sorted(m for m in sys.modules if m.split(".")[0] == "moto"
                                 and sys.modules[m] is not None)
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("without-moto") / "report.json"


@pytest.fixture(scope="module")
def ran(report_path: Path) -> dict[str, Any]:
    """Each command's exit code, stdout and stderr; the scan's against an account served over
    HTTP from this process, where moto is installed."""
    commands = {
        "help": ["--help"], "checks": ["checks"], "iam-policy": ["iam-policy"],
        "demo": ["scan", "--demo"],
        "scan": ["scan", "--region", "us-east-1", "--format", "json", "--output",
                 str(report_path), "--quiet"],
    }
    with MotoServer(latency_s=0.0) as server:
        # moto's state is per process: scan an empty account, whatever ran here before.
        urllib.request.urlopen(urllib.request.Request(
            f"{server.endpoint}/moto-api/reset", method="POST"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
        env.update(server.client_env())
        env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                    "AWS_EC2_METADATA_DISABLED": "true"})
        done = subprocess.run([sys.executable, "-c", WITHOUT_MOTO, json.dumps(commands)],
                              capture_output=True, text=True, timeout=300, check=False,
                              cwd=ROOT, env=env)
        assert done.returncode == 0, done.stderr
        results: dict[str, Any] = json.loads(done.stdout)
        results["requests served"] = server.total()
    return results


@pytest.mark.parametrize("command", ["help", "checks", "iam-policy"])
def test_commands_run_without_moto(ran: dict[str, Any], command: str) -> None:
    assert ran[command]["exit_code"] == 0, ran[command]["stderr"]
    assert ran[command]["stdout"] and not ran[command]["stderr"]


def test_iam_policy_without_moto(ran: dict[str, Any]) -> None:
    assert json.loads(ran["iam-policy"]["stdout"])["Statement"][0]["Effect"] == "Allow"


def test_demo_without_moto_is_one_line_naming_the_extra(ran: dict[str, Any]) -> None:
    assert ran["demo"]["exit_code"] == 2
    assert ran["demo"]["stdout"] == ""
    assert ran["demo"]["stderr"] == ("auditor: error: the demo needs the emulator: "
                                     "pip install 'compute-auditor[demo]'\n")


def test_scan_of_an_account_without_moto(ran: dict[str, Any], report_path: Path) -> None:
    assert ran["scan"]["exit_code"] == 0, ran["scan"]["stderr"]
    document = json.loads(report_path.read_text())
    assert document["scope"]["accounts"] == ["123456789012"]
    assert document["errors"] == []
    assert ran["requests served"] > 0, "the scan reached the emulated account"
    assert ran["moto modules"] == [], "nothing imported moto by another route"


def test_only_the_demo_imports_moto() -> None:
    """No module of the shipped packages outside auditor/demo/ imports moto, at any level."""
    demo = ROOT / "auditor" / "demo"
    offenders = []
    for path in sorted([*(ROOT / "auditor").rglob("*.py"), *(ROOT / "checks").rglob("*.py")]):
        if demo in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom)
                     and node.level == 0 else [])
            if any(name == "moto" or name.startswith("moto.") for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
