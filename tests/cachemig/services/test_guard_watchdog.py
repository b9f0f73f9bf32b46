"""With the task queue unreachable (Redis down), processes sweep the guards themselves."""

from __future__ import annotations

import socket

import pytest
from huey import RedisHuey
from huey.contrib import djhuey

from cachemig.models import FeatureFlag
from cachemig.testing import InjectedFigures
from cachemig.watchdog import sweep_unless_queue_reachable
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db(transaction=True)
FLAG = "TWS_UNIFIED_V2_ENABLED"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_a_breached_flag_is_rolled_back_while_the_queue_is_unreachable(
    tws_guard: InjectedFigures, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=400, errors=48)
    monkeypatch.setattr(djhuey, "HUEY", RedisHuey("resync-dead", url=f"redis://127.0.0.1:{_closed_port()}/0"))
    assert sweep_unless_queue_reachable() == 1
    flag = FeatureFlag.objects.get(name=FLAG)
    assert flag.exposure == 0
    assert flag.reason.startswith("auto: error ratio")


def test_a_reachable_queue_leaves_the_sweep_to_the_workers(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=400, errors=48)
    assert sweep_unless_queue_reachable() is None  # the test profile's SqliteHuey answers
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25
