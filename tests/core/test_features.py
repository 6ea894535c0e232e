"""The feature contract: the registry's typed interfaces and data hooks, and the job runner."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import pytest

from bot.database import Reader, Transaction
from bot.features import Feature, FeatureRegistry, Job, JobRunner


class Greeter(Protocol):
    def greet(self) -> str: ...


class English:
    def greet(self) -> str:
        return "hello"


class Hooks:
    async def export_member(self, db: Reader, guild_id: int, member_id: int) -> dict[str, Any]:
        return {}

    async def forget_member(self, tx: Transaction, guild_id: int, member_id: int) -> int:
        return 0

    async def purge_community(self, tx: Transaction, guild_id: int) -> int:
        return 0


def test_registry_finds_an_interface_by_type_and_forgets_it_on_removal() -> None:
    registry = FeatureRegistry()
    english = English()
    registry.add(Feature("greetings", provides={Greeter: english}))
    assert registry.get(Greeter) is english
    assert registry.require(Greeter).greet() == "hello"
    registry.remove("greetings")
    assert registry.get(Greeter) is None
    with pytest.raises(LookupError, match="Greeter"):
        registry.require(Greeter)


def test_registry_refuses_a_feature_loaded_twice() -> None:
    registry = FeatureRegistry()
    registry.add(Feature("a"))
    with pytest.raises(ValueError, match="already loaded"):
        registry.add(Feature("a"))


def test_data_hooks_are_those_of_loaded_features_in_name_order() -> None:
    registry = FeatureRegistry()
    zeta, alpha = Hooks(), Hooks()
    registry.add(Feature("zeta", data=zeta))
    registry.add(Feature("none"))
    registry.add(Feature("alpha", data=alpha))
    assert registry.data_hooks() == [("alpha", alpha), ("zeta", zeta)]
    assert registry.names() == ["alpha", "none", "zeta"]


async def test_a_failing_job_is_recorded_and_keeps_running() -> None:
    ready = asyncio.Event()
    runs: list[int] = []
    third_run = asyncio.Event()

    async def work() -> None:
        runs.append(len(runs))
        if len(runs) == 3:
            third_run.set()
        if len(runs) == 1:
            raise RuntimeError("upstream down")

    async def wait_until_ready() -> None:
        await ready.wait()

    runner = JobRunner(wait_until_ready)
    runner.start(Job("work", 0.001, work))
    await asyncio.sleep(0)
    assert runs == []  # nothing before the bot is ready
    ready.set()
    await asyncio.wait_for(third_run.wait(), timeout=10)
    status = runner.status["work"]
    assert status.failures == 1
    assert status.runs >= 3
    assert status.last_error is None  # the later runs succeeded
    await runner.stop("work")
    assert "work" not in runner.status


async def test_run_once_records_the_error_text() -> None:
    async def fail() -> None:
        raise ValueError("bad row")

    async def ready() -> None:
        return None

    runner = JobRunner(ready)
    await runner.run_once(Job("fails", 60, fail))
    assert runner.status["fails"].last_error == "ValueError: bad row"
    assert runner.status["fails"].runs == 1


async def test_two_jobs_with_one_name_are_refused() -> None:
    async def ready() -> None:
        await asyncio.Event().wait()

    async def nothing() -> None:
        return None

    runner = JobRunner(ready)
    runner.start(Job("x", 60, nothing))
    with pytest.raises(ValueError, match="already running"):
        runner.start(Job("x", 60, nothing))
    await runner.stop_all()
