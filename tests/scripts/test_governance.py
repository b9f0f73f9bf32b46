"""Run scripts/governance as a real subprocess against planted source trees."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "governance"
CATEGORIES = (
    "blocking-in-async",
    "sync-returns-awaitable",
    "runtime-assert",
    "nullable-boolean",
    "file-suppression",
)


@dataclass(frozen=True)
class Planted:
    """A source file that must produce a finding of one category at one line."""

    name: str
    category: str
    line: int
    source: str


def run_governance(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the governance script and capture its output."""
    command = [sys.executable, str(SCRIPT), *(str(arg) for arg in args)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def plant(root: Path, relative: str, source: str) -> Path:
    """Write dedented source to a file under root and return its path."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def table_counts(stdout: str) -> dict[str, int]:
    """Return the counts printed in the category table."""
    counts = {}
    for category in CATEGORIES:
        match = re.search(rf"^{re.escape(category)}\s+(\d+)$", stdout, re.MULTILINE)
        if match:
            counts[category] = int(match.group(1))
    return counts


def json_report(root: Path) -> dict[str, Any]:
    """Return the --json report for a tree."""
    result = run_governance(root, "--json")
    report: dict[str, Any] = json.loads(result.stdout)
    report["exit"] = result.returncode
    return report


PLANTED = [
    # Acceptance: the four patterns the gate must catch.
    Planted("mypy_ignore_errors", "file-suppression", 1, "# mypy: ignore-errors\nx = 1\n"),
    Planted(
        "runtime_assert",
        "runtime-assert",
        2,
        """
        def positive(value: int) -> int:
            assert value > 0, "must be positive"
            return value
        """,
    ),
    Planted(
        "sync_returns_coroutine",
        "sync-returns-awaitable",
        6,
        """
        async def fetch() -> int:
            return 1


        def fetch_later():
            return fetch()
        """,
    ),
    Planted(
        "time_sleep_in_async",
        "blocking-in-async",
        5,
        """
        import time


        async def poll() -> None:
            time.sleep(1)
        """,
    ),
    # blocking-in-async
    Planted(
        "imported_sleep_in_async",
        "blocking-in-async",
        5,
        """
        from time import sleep as pause


        async def poll() -> None:
            pause(0.5)
        """,
    ),
    Planted(
        "requests_in_async",
        "blocking-in-async",
        5,
        """
        import requests


        async def fetch(url: str) -> bytes:
            return requests.get(url, timeout=5).content
        """,
    ),
    Planted(
        "sync_httpx_client_in_async",
        "blocking-in-async",
        5,
        """
        import httpx


        async def fetch(url: str) -> str:
            with httpx.Client() as client:
                return client.get(url).text
        """,
    ),
    Planted(
        "subprocess_in_async",
        "blocking-in-async",
        4,
        """
        import subprocess

        async def run_job() -> None:
            subprocess.run(["true"], check=True)
        """,
    ),
    Planted(
        "urlopen_in_async",
        "blocking-in-async",
        4,
        """
        from urllib.request import urlopen

        async def ping() -> None:
            urlopen("http://localhost")
        """,
    ),
    Planted(
        "builtin_open_in_async",
        "blocking-in-async",
        2,
        """
        async def read(path: str) -> str:
            with open(path) as handle:
                return handle.read()
        """,
    ),
    Planted(
        "orm_get_in_async",
        "blocking-in-async",
        4,
        """
        from jobs.models import Job

        async def job_name(pk: int) -> str:
            return Job.objects.get(pk=pk).name
        """,
    ),
    Planted(
        "orm_filter_first_in_async",
        "blocking-in-async",
        4,
        """
        from jobs.models import Job

        async def latest() -> object:
            return Job.objects.filter(state="done").order_by("-id").first()
        """,
    ),
    Planted(
        "model_save_in_async",
        "blocking-in-async",
        3,
        """
        async def rename(job: object, name: str) -> None:
            job.name = name
            job.save(update_fields=["name"])
        """,
    ),
    Planted(
        "list_of_queryset_in_async",
        "blocking-in-async",
        4,
        """
        from jobs.models import Job

        async def all_jobs() -> list[object]:
            return list(Job.objects.filter(active=True))
        """,
    ),
    Planted(
        "sync_for_over_queryset_in_async",
        "blocking-in-async",
        4,
        """
        from jobs.models import Job

        async def names() -> list[str]:
            for job in Job.objects.all():
                print(job)
            return []
        """,
    ),
    # sync-returns-awaitable
    Planted(
        "sync_method_returns_async_method",
        "sync-returns-awaitable",
        6,
        """
        class Client:
            async def fetch(self) -> int:
                return 1

            def fetch_soon(self):
                return self.fetch()
        """,
    ),
    Planted(
        "sync_returns_asyncio_sleep",
        "sync-returns-awaitable",
        5,
        """
        import asyncio


        def later():
            return asyncio.sleep(1)
        """,
    ),
    Planted(
        "sync_returns_gather",
        "sync-returns-awaitable",
        5,
        """
        import asyncio


        def both(a, b):
            return asyncio.gather(a, b)
        """,
    ),
    Planted(
        "sync_returns_create_future",
        "sync-returns-awaitable",
        3,
        """
        def pending(loop):
            waiter = loop.create_future()
            return loop.create_future()
        """,
    ),
    Planted(
        "sync_annotated_awaitable",
        "sync-returns-awaitable",
        4,
        """
        from collections.abc import Awaitable


        def start(job: object) -> Awaitable[None]:
            return job.run()
        """,
    ),
    Planted(
        "lambda_fallback_returns_coroutine",
        "sync-returns-awaitable",
        5,
        """
        async def default_loader() -> dict[str, str]:
            return {}


        loader = getattr(object(), "loader", lambda: default_loader())
        """,
    ),
    # nullable-boolean
    Planted(
        "boolean_field_null",
        "nullable-boolean",
        5,
        """
        from django.db import models


        class Job(models.Model):
            approved = models.BooleanField(default=None, null=True)
        """,
    ),
    Planted(
        "null_boolean_field",
        "nullable-boolean",
        5,
        """
        from django.db import models


        class Job(models.Model):
            approved = models.NullBooleanField()
        """,
    ),
    Planted(
        "optional_bool_param",
        "nullable-boolean",
        4,
        """
        from typing import Optional


        def decide(flag: Optional[bool]) -> str:
            return "yes" if flag else "no"
        """,
    ),
    Planted(
        "bool_or_none_return",
        "nullable-boolean",
        1,
        """
        def decide() -> bool | None:
            return None
        """,
    ),
    Planted(
        "none_or_bool_dataclass_field",
        "nullable-boolean",
        6,
        """
        from dataclasses import dataclass


        @dataclass
        class Options:
            dry_run: None | bool = None
        """,
    ),
    Planted(
        "string_union_bool_none",
        "nullable-boolean",
        5,
        """
        import typing


        class Settings:
            verbose: "typing.Union[bool, None]" = None
        """,
    ),
    # file-suppression
    Planted("pylint_skip_file", "file-suppression", 2, '"""Module."""\n# pylint: skip-file\nx = 1\n'),
    Planted("top_type_ignore", "file-suppression", 2, "#!/usr/bin/env python3\n# type: ignore\nx = 1\n"),
    Planted("ruff_noqa_file", "file-suppression", 3, "import os\n\n# ruff: noqa\nx = os.sep\n"),
    Planted("ruff_noqa_codes", "file-suppression", 1, "# ruff: noqa: E501, F401\nx = 1\n"),
    Planted("flake8_noqa", "file-suppression", 1, "# flake8: noqa\nx = 1\n"),
    Planted(
        "pylint_disable_module_level",
        "file-suppression",
        3,
        """
        import os

        # pylint: disable=invalid-name
        x = os.sep
        """,
    ),
]


@pytest.mark.parametrize("planted", PLANTED, ids=[p.name for p in PLANTED])
def test_planted_pattern_is_reported(tmp_path: Path, planted: Planted) -> None:
    path = plant(tmp_path, f"app/{planted.name}.py", planted.source)

    result = run_governance(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    counts = table_counts(result.stdout)
    assert counts[planted.category] >= 1
    # The planted file triggers only its own category: no collateral false positives.
    assert {c: n for c, n in counts.items() if c != planted.category} == dict.fromkeys(
        (c for c in CATEGORIES if c != planted.category), 0
    )
    assert f"{path}:{planted.line}: [{planted.category}]" in result.stdout


CLEAN_SOURCES = {
    "awaited_sleep": """
        import asyncio

        async def poll() -> None:
            await asyncio.sleep(1)
        """,
    "async_orm": """
        from jobs.models import Job

        async def job_names(pk: int) -> list[str]:
            job = await Job.objects.aget(pk=pk)
            total = await Job.objects.filter(active=True).acount()
            first = await Job.objects.order_by("id").afirst()
            exists = await Job.objects.filter(pk=pk).aexists()
            await job.asave()
            await Job.objects.acreate(name="x")
            names = [j.name async for j in Job.objects.filter(active=True)]
            async for other in Job.objects.all():
                names.append(other.name)
            return names if total and first and exists else []
        """,
    "wrapped_sync_calls": """
        import asyncio
        import time

        import requests
        from asgiref.sync import sync_to_async
        from jobs.models import Job

        def load(pk: int) -> object:
            return Job.objects.get(pk=pk)

        async def fetch(url: str, pk: int) -> None:
            await sync_to_async(load)(pk)
            await sync_to_async(Job.objects.get)(pk=pk)
            await asyncio.to_thread(time.sleep, 1)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, requests.get, url)
        """,
    "lazy_queryset_in_async": """
        from jobs.models import Job

        async def active() -> object:
            return Job.objects.filter(active=True).order_by("id")
        """,
    "awaited_async_client_delete": """
        async def drop(client: object, url: str) -> None:
            await client.delete(url)
        """,
    "sync_def_inside_async_def": """
        import time

        async def outer() -> None:
            def backoff() -> None:
                time.sleep(1)

            retry = lambda: time.sleep(2)
            del backoff, retry
        """,
    "per_line_suppressions": """
        import os  # noqa: F401

        LONG = "x"  # noqa: E501
        value = int("1")  # type: ignore[arg-type]
        name = LONG  # pylint: disable=invalid-name


        def build() -> str:
            # pylint: disable=too-many-locals
            return "# mypy: ignore-errors in a string is not a comment"
        """,
    "non_nullable_annotations": """
        from typing import Optional, Union

        def choose(flag: bool, count: Optional[int], mixed: bool | int | None) -> Union[int, None]:
            return count if flag and mixed else None
        """,
    "async_returns_and_stubs": """
        from collections.abc import Awaitable
        from typing import Protocol

        async def fetch() -> int:
            return 1

        async def relay() -> int:
            return await fetch()

        def helper() -> int:
            return 2

        def compute() -> int:
            return helper()

        class Sender(Protocol):
            def __call__(self, message: str) -> Awaitable[None]: ...
        """,
    "boolean_field_not_null": """
        from django.db import models

        class Job(models.Model):
            approved = models.BooleanField(default=False)
            note = models.TextField(null=True)
        """,
}


@pytest.mark.parametrize("name", sorted(CLEAN_SOURCES))
def test_safe_pattern_is_not_reported(tmp_path: Path, name: str) -> None:
    plant(tmp_path, f"app/{name}.py", CLEAN_SOURCES[name])

    result = run_governance(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert table_counts(result.stdout) == dict.fromkeys(CATEGORIES, 0)


def test_tests_and_migrations_are_skipped(tmp_path: Path) -> None:
    plant(tmp_path, "app/tests/helpers.py", "def check(x: int) -> None:\n    assert x\n")
    plant(tmp_path, "app/test_models.py", "assert True\n")
    plant(tmp_path, "app/conftest.py", "assert True\n")
    plant(tmp_path, "app/sub/test_nested.py", "def test_it() -> None:\n    assert 1 == 1\n")
    plant(tmp_path, "app/migrations/0001_initial.py", "flag: bool | None = None\n")
    plant(tmp_path, "app/clean.py", "VALUE = 1\n")

    result = run_governance(tmp_path)

    assert result.returncode == 0, result.stdout
    assert table_counts(result.stdout) == dict.fromkeys(CATEGORIES, 0)


def test_clean_tree_exits_zero_with_the_full_table(tmp_path: Path) -> None:
    plant(tmp_path, "app/services.py", '"""Do work."""\n\nfrom __future__ import annotations\n\nVALUE = 1\n')

    result = run_governance(tmp_path)

    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "category                  count",
        "blocking-in-async             0",
        "sync-returns-awaitable        0",
        "runtime-assert                0",
        "nullable-boolean              0",
        "file-suppression              0",
    ]


def test_json_report_counts_every_category_and_lists_findings(tmp_path: Path) -> None:
    path = plant(tmp_path, "app/mixed.py", "# mypy: ignore-errors\nassert True\nassert False\n")
    plant(tmp_path, "bin/tool", "#!/usr/bin/env python3\nassert True\n")

    report = json_report(tmp_path)

    assert report["exit"] == 1
    assert {c: report[c] for c in CATEGORIES} == {
        **dict.fromkeys(CATEGORIES, 0),
        "runtime-assert": 3,
        "file-suppression": 1,
    }
    first = report["findings"][0]
    assert (first["path"], first["line"], first["category"]) == (str(path), 1, "file-suppression")
    assert str(tmp_path / "bin" / "tool") in {f["path"] for f in report["findings"]}


def test_explicit_file_argument_is_checked(tmp_path: Path) -> None:
    path = plant(tmp_path, "one.py", "import time\n\nasync def go() -> None:\n    time.sleep(1)\n")
    plant(tmp_path, "other.py", "assert True\n")

    result = run_governance(path)

    assert result.returncode == 1
    assert table_counts(result.stdout)["blocking-in-async"] == 1
    assert table_counts(result.stdout)["runtime-assert"] == 0


def test_unparsable_file_fails_with_a_message(tmp_path: Path) -> None:
    plant(tmp_path, "broken.py", "def broken(:\n")

    result = run_governance(tmp_path)

    assert result.returncode == 2
    assert "broken.py: cannot check" in result.stderr


def test_the_script_passes_its_own_gate() -> None:
    result = run_governance(SCRIPT)

    assert result.returncode == 0, result.stdout
