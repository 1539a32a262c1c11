"""The scoring worker's ASGI app, driven in-process: where run() is called, and request_settings kept."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from cli.local.endpoints import upstream
from cli.local.endpoints.placement import PROOF, Placement
from cli.local.endpoints.worker import build_app


def _request(body: dict, token: str):
    """The ASGI scope, receive and send of one POST /score, and the list `send` fills."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/score", "headers": [(b"authorization", f"Bearer {token}".encode())]}
    return scope, receive, send, sent


async def _score(app, body: dict, token: str = "t"):
    """(status, document) of one POST /score."""
    scope, receive, send, sent = _request(body, token)
    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def _script():
    threads = []

    def run(raw):
        data = json.loads(raw)
        threads.append(threading.current_thread().name)
        time.sleep(data.get("sleep", 0))
        return {"ok": True}

    return run, threads


def test_cheap_run_goes_inline_and_a_slow_one_goes_back_to_the_pool_with_408():
    run, threads = _script()
    app = build_app(run, "t", 4, timeout_s=0.5)

    async def scenario():
        assert (await _score(app, {}, token="wrong"))[0] == 401
        for _ in range(PROOF):
            assert (await _score(app, {}))[0] == 200
        assert all(name.startswith("score") for name in threads)  # proven in the pool first
        for _ in range(20 * PROOF):  # then inline (a loaded machine may break a streak: a few more calls)
            assert (await _score(app, {}))[0] == 200
            if threads[-1] == "MainThread":
                break
        assert threads[-1] == "MainThread"
        started = time.monotonic()
        status, document = await _score(app, {"sleep": 0.7})  # inline and slower than the timeout: 408 when it returns
        assert status == 408 and "timed out after 500 ms" in document["message"]
        assert time.monotonic() - started >= 0.7
        assert (await _score(app, {}))[0] == 200
        assert threads[-1].startswith("score")  # back in the pool
        started = time.monotonic()
        assert (await _score(app, {"sleep": 1.2}))[0] == 408  # in the pool: 408 at the timeout
        assert time.monotonic() - started < 1.15

    asyncio.run(scenario())


def test_the_pool_answers_429_beyond_max_concurrent_while_run_works():
    run, _ = _script()
    app = build_app(run, "t", 1, timeout_s=5)

    async def scenario():
        slow = asyncio.ensure_future(_score(app, {"sleep": 0.5}))
        await asyncio.sleep(0.1)
        status, document = await _score(app, {})
        assert status == 429 and "more than 1 at once" in document["message"]
        assert (await slow)[0] == 200

    asyncio.run(scenario())


def test_script_errors_are_500_with_the_message():
    def run(raw):
        raise ValueError("bad input row")

    app = build_app(run, "t", 1, timeout_s=5)
    status, document = asyncio.run(_score(app, {}))
    assert status == 500 and "bad input row" in document["message"]


def test_placement_needs_twice_the_proof_after_a_slow_inline_call():
    placement = Placement(timeout_s=5)
    for _ in range(PROOF):
        placement.observe(0.0001)
    assert placement.inline
    placement.observe(0.5)
    assert not placement.inline and placement.needed == 2 * PROOF
    placement.observe(0.01, cpu_seconds=0.0001)  # waited for the GIL: neither cheap nor slow
    assert placement.streak == 0 and placement.needed == 2 * PROOF
    assert Placement(timeout_s=0.05).cheap_s == 0.0005  # never more than a hundredth of the timeout


def test_upstream_parses_answers_split_anywhere():
    answer = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{\"m\": \"late\"}"
    for cut in range(len(answer)):
        assert upstream._parse(bytearray(answer[:cut])) is None
    assert upstream._parse(bytearray(answer)) == (408, "application/json", b'{"m": "late"}', True)
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    assert upstream._parse(bytearray(closing)) == (200, "application/json", b"", False)
