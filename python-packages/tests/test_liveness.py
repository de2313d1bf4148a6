"""The Python client's liveness check (remotemedia/remote/liveness.py), as the
TypeScript client's livenessTimeoutMs: its setting checked with a message naming it,
what `open` asks of the gateway, and the watch on a reader's waits. End to end
against a gateway whose connection goes silent: remote-gateway/attack-liveness.test.ts
(CPython) and web/runtime/remote/python-restart-remote.browser.test.ts (Pyodide)."""

from __future__ import annotations

import asyncio
import unittest

from remotemedia.remote import RemoteExecutorConfig, RemoteProxy
from remotemedia.remote.liveness import SilenceWatch, heartbeat_ask, liveness_timeout
from remotemedia.remote.protocol import HEARTBEAT_TEXT


class LivenessSettingTest(unittest.TestCase):
    def test_a_bad_timeout_names_the_setting_and_what_is_valid(self):
        for bad, error in ((-1, ValueError), (0.39, ValueError), (4000, ValueError), ("8", TypeError), (True, TypeError), (float("nan"), TypeError)):
            with self.assertRaises(error) as caught:
                RemoteProxy(RemoteExecutorConfig(liveness_timeout_s=bad))
            self.assertEqual(
                str(caught.exception),
                f"liveness_timeout_s {bad!r}: expected 0 (no liveness check) or seconds from 0.4 to 3600",
            )

    def test_open_asks_for_a_heartbeat_on_each_quiet_quarter(self):
        self.assertEqual(liveness_timeout(8), 8.0)
        self.assertEqual(heartbeat_ask(8.0), {"heartbeatMs": 2000})
        self.assertEqual(heartbeat_ask(0.4), {"heartbeatMs": 100})
        self.assertEqual(heartbeat_ask(0), {})  # off: nothing asked, nothing sent
        self.assertEqual(HEARTBEAT_TEXT, '{"type":"heartbeat"}')


class SilenceWatchTest(unittest.TestCase):
    async def test_a_wait_past_the_deadline_is_reported_once(self):
        called = []
        reported = asyncio.Event()

        def on_silent(seconds):
            called.append(seconds)
            reported.set()
            return True

        watch = SilenceWatch(0.4, on_silent)
        try:
            watch.waiting_since = asyncio.get_running_loop().time()
            await asyncio.wait_for(reported.wait(), 10)  # a hang detector
            await asyncio.sleep(0.3)  # the watch stopped: no second report
            self.assertEqual(len(called), 1)
            self.assertGreaterEqual(called[0], 0.4)
        finally:
            watch.stop()

    async def test_no_wait_no_judgement_and_a_refusal_keeps_it_watching(self):
        refused = []
        watch = SilenceWatch(0.4, lambda seconds: refused.append(seconds) is not None)
        try:
            await asyncio.sleep(0.6)  # nobody waits on the socket: nothing to judge
            self.assertEqual(refused, [])
            watch.waiting_since = asyncio.get_running_loop().time()
            while len(refused) < 2:  # refused (the gateway does not beat): asked again
                await asyncio.sleep(0.05)
        finally:
            watch.stop()
