"""GC out of the request path: the pause histogram, the idle collector, ``--stats``."""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dxpy.policy import new_event_loop
from dxpy.serve import Config
from dxpy.serve.config import ConfigError
from dxpy.serve.gc import BUCKETS_US, SAFETY_FACTOR, GcController, PauseHistogram
from examples import hello

from .serve_support import cli_server, thread_server


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=300),
       st.sampled_from([0.5, 0.9, 0.99, 1.0]))
def test_quantile_is_the_bucket_holding_the_true_quantile(pauses_ns, q):
    histogram = PauseHistogram()
    for ns in pauses_ns:
        histogram.add(ns)
    ordered = sorted(pauses_ns)
    true_us = ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1000
    bound = histogram.quantile_us(q)
    assert bound >= true_us or math.isclose(bound, true_us)
    lower = max([b for b in BUCKETS_US if b < true_us], default=0)
    assert bound > lower or true_us == 0
    assert histogram.count == len(pauses_ns) and histogram.max_ns == max(pauses_ns)


class Cycle:
    """Cyclic garbage: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_collections_move_to_the_idle_loop():
    loop = new_event_loop()
    controller = GcController(loop, enabled=True)
    thresholds = gc.get_threshold()
    controller.install()
    try:
        assert gc.get_threshold()[0] == thresholds[0] * SAFETY_FACTOR
        assert gc.get_freeze_count() > 0

        async def requests() -> None:
            for _ in range(200):
                for _ in range(50):
                    Cycle()
                controller.after_response()  # what the protocol calls per response
                await asyncio.sleep(0)

        loop.run_until_complete(requests())
    finally:
        controller.uninstall()
        loop.close()
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == 0
    assert controller.idle.count >= 5
    assert controller.in_request.count == 0


def test_disabled_controller_leaves_gc_alone_but_measures():
    loop = new_event_loop()
    controller = GcController(loop, enabled=False)
    thresholds = gc.get_threshold()
    controller.install()
    try:
        assert gc.get_threshold() == thresholds
        gc.collect(0)
        controller.after_response()
    finally:
        controller.uninstall()
        loop.close()
    assert controller.in_request.count >= 1 and controller.idle.count == 0


def test_stats_line_reports_pauses():
    with cli_server("examples.hello:app", "--port", "0", "--stats", "--no-access-log") as child:
        with httpx.Client(base_url=f"http://127.0.0.1:{child.port}") as client:
            for _ in range(300):
                client.get("/")
        assert child.stop() == 0
    stats = json.loads(re.findall(r"stats: (\{.*\})", child.drain())[-1])
    assert stats["requests"] == 300 and stats["gc_control"] is True
    assert set(stats["idle"]) == {"count", "p50_us", "p99_us", "max_us", "total_ms", "buckets"}
    assert stats["heap_tuned"] is True and stats["rss_kib"] > 0


def test_stats_endpoint_answers_before_the_app():
    with thread_server(hello.app, stats=True) as running:
        with httpx.Client(base_url=running.url) as client:
            for _ in range(20):
                assert client.get("/").text == "Hello, world!"
            answer = client.get("/_dxpy/stats")
            refused = client.post("/_dxpy/stats")
            assert client.get("/_dxpy/stats/other").text == "Hello, world!"
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    stats = answer.json()
    assert stats["requests"] == 20 and stats["connections"] == 1 and stats["pid"] == os.getpid()
    for kind in ("idle", "in_request"):
        buckets = stats[kind]["buckets"]
        assert [bound for bound, _ in buckets] == [*BUCKETS_US, None]
        assert sum(count for _, count in buckets) == stats[kind]["count"]
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"


def test_stats_endpoint_only_with_stats_and_at_its_path():
    with thread_server(hello.app, stats=True, stats_path="/metrics/dxpy") as running:
        with httpx.Client(base_url=running.url) as client:
            assert client.get("/_dxpy/stats").text == "Hello, world!"
            assert "requests" in client.get("/metrics/dxpy").json()
    with thread_server(hello.app) as running:
        assert httpx.get(running.url + "/_dxpy/stats").text == "Hello, world!"
    with pytest.raises(ConfigError, match="--stats-path"):
        Config(hello.app, stats=True, stats_path="stats")
