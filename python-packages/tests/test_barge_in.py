"""Barge-in on the pure-Python executor (remotemedia/core/barge_in.py), as the
runtime has it (web/core/barge-in.test.ts): an interrupt stops the listed nodes'
call in flight, drops what was queued for them before it, flows on to the sinks and
is counted. Real nodes, real asyncio; every wait is on an event the test sets."""

from __future__ import annotations

import asyncio
import unittest

from remotemedia import Node, Pipeline
from remotemedia.data import RuntimeData

INTERRUPT = RuntimeData.control("interrupt")


class Reply(Node):
    """Streams a reply: 100 chunks for "long", 3 for any other text."""

    def __init__(self, **config):
        super().__init__(**config)
        self.hooks = 0

    def interrupt(self):
        self.hooks += 1

    def process(self, text):
        if isinstance(text, RuntimeData):  # the trigger's event passes by
            yield text
            return
        for i in range(100 if text == "long" else 3):
            yield f"{text} {i}"


class Think(Node):
    """A coroutine call that only ends when cancelled (an LLM that takes its time)."""

    def __init__(self, **config):
        super().__init__(**config)
        self.cancelled = 0
        self.started = asyncio.Event()

    async def process(self, text):
        if text != "long":
            return f"{text}!"
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


class Vad(Node):
    def process(self, data):
        return RuntimeData.event("speech_start", 5) if data == "barge" else data


class Speaker(Node):
    def process(self, data):
        return data


def said(outputs):
    return [o for o in outputs if isinstance(o, str)]


class BargeInTest(unittest.TestCase):
    async def test_an_interrupt_given_as_input_stops_the_reply_streaming_and_drops_what_was_queued(self):
        pipeline = Pipeline("voice").add_node(Reply(name="reply")).add_node(Speaker(name="speaker"))
        pipeline.barge_in(["reply"])
        first = asyncio.Event()

        async def inputs():
            yield "long"
            await first.wait()
            yield "queued before the interrupt"
            yield INTERRUPT
            yield "after"

        outputs = []
        async for out in pipeline.process(inputs()):
            outputs.append(out)
            first.set()
        long_chunks = [o for o in said(outputs) if o.startswith("long")]
        self.assertLess(len(long_chunks), 3)  # of 100: the call in flight stopped
        self.assertEqual([o for o in said(outputs) if not o.startswith("long")], ["after 0", "after 1", "after 2"])
        self.assertEqual(pipeline.nodes["reply"].hooks, 1)
        self.assertEqual([o for o in outputs if not isinstance(o, str)], [INTERRUPT])  # it flowed on
        reply = next(m for m in pipeline.metrics() if m["nodeId"] == "reply")
        self.assertEqual(reply["interrupts"], 1)
        self.assertGreaterEqual(reply["droppedOnInterrupt"], 1)  # the queued text (and a chunk made after)

    async def test_interrupt_called_from_outside_stops_the_reply_and_the_next_one_plays(self):
        pipeline = Pipeline("voice").add_node(Reply(name="reply")).add_node(Speaker(name="speaker"))
        pipeline.barge_in(["reply"])
        interrupted = asyncio.Event()

        async def inputs():
            yield "long"
            await interrupted.wait()
            yield "after"

        outputs = []
        async for out in pipeline.process(inputs()):
            outputs.append(out)
            if out == "long 0":
                pipeline.interrupt()  # the application's button, or its own VAD
                interrupted.set()
        self.assertEqual(said(outputs), ["long 0", "after 0", "after 1", "after 2"])
        self.assertEqual(pipeline.metrics()[0]["interrupts"], 1)

    async def test_a_coroutine_call_in_flight_is_cancelled(self):
        pipeline = Pipeline("think").add_node(Think(name="think"))
        pipeline.barge_in(["think"])

        async def inputs():
            yield "long"
            await pipeline.nodes["think"].started.wait()  # the call is in flight
            yield INTERRUPT
            yield "short"

        outputs = [out async for out in pipeline.process(inputs())]
        self.assertEqual(said(outputs), ["short!"])
        self.assertEqual(pipeline.nodes["think"].cancelled, 1)

    async def test_a_trigger_node_interrupts_and_its_control_follows_the_event(self):
        pipeline = Pipeline("vad").add_node(Vad(name="vad")).add_node(Reply(name="reply"))
        pipeline.barge_in(["reply"], trigger="vad")
        outputs = await pipeline.run(["hi", "barge", "again"], use_runtime=False)
        kinds = [o.kind if isinstance(o, RuntimeData) else "text" for o in outputs]
        self.assertEqual(kinds, ["text"] * 3 + ["event", "control"] + ["text"] * 3)
        self.assertEqual(outputs[4].timestamp_us, 5)  # stamped with its trigger's time
        self.assertEqual(pipeline.nodes["reply"].hooks, 1)

    async def test_without_the_setting_an_interrupt_only_flows(self):
        pipeline = Pipeline("plain").add_node(Reply(name="reply"))
        outputs = await pipeline.run(["a", INTERRUPT, "b"], use_runtime=False)
        self.assertEqual(said(outputs), ["a 0", "a 1", "a 2", "b 0", "b 1", "b 2"])
        self.assertEqual(pipeline.nodes["reply"].hooks, 0)
        with self.assertRaises(ValueError) as caught:
            pipeline.interrupt()
        self.assertIn("no barge-in setting", str(caught.exception))

    def test_the_setting_is_in_the_manifest_and_bad_names_are_refused_saying_which(self):
        pipeline = Pipeline("voice").add_node(Vad(name="vad")).add_node(Reply(name="reply"))
        pipeline.barge_in(["reply"], trigger="vad", on="speech_start")
        self.assertEqual(pipeline.manifest()["bargeIn"], {"from": "vad", "on": "speech_start", "to": ["reply"]})
        with self.assertRaises(ValueError) as unknown:
            pipeline.barge_in(["reply"], trigger="vda")
        self.assertIn("no node named 'vda'; nodes: vad, reply", str(unknown.exception))
        upstream = Pipeline("up").add_node(Vad(name="vad")).add_node(Reply(name="reply"))
        upstream.barge_in(["vad"], trigger="reply")
        with self.assertRaises(ValueError) as caught:
            upstream._executor()
        self.assertIn("'vad' is not downstream of 'reply'", str(caught.exception))
        with self.assertRaises(TypeError):
            pipeline.barge_in("reply")


if __name__ == "__main__":
    unittest.main()
