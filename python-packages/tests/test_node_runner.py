import json
import os
import struct
import subprocess
import sys
import unittest

from remotemedia import RuntimeData, decode_frame, encode_frame

try:
    import pyodide  # noqa: F401

    IN_PYODIDE = True
except ImportError:
    IN_PYODIDE = False

PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = """
from remotemedia import Node
class AddOne(Node):
    def process(self, data):
        if data == 13:
            raise ValueError("13 is not welcome")
        return data + 1
    def flush(self):
        return "done"
"""


def request(proc, op, payload=b""):
    proc.stdin.write(struct.pack("<BI", op, len(payload)) + payload)
    proc.stdin.flush()
    status, count = struct.unpack("<BI", proc.stdout.read(5))
    items = []
    for _ in range(count):
        (length,) = struct.unpack("<I", proc.stdout.read(4))
        items.append(proc.stdout.read(length))
    return status, items


class NodeRunnerTest(unittest.TestCase):
    def test_runs_a_node_over_pipes_and_reports_errors_without_dying(self):
        if IN_PYODIDE:
            raise unittest.SkipTest("Pyodide cannot start processes; the gateway runs this on CPython")
        proc = subprocess.Popen(
            [sys.executable, "-m", "remotemedia.node_runner"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PACKAGES,
        )
        try:
            self.assertEqual(request(proc, 1, json.dumps({"source": SOURCE}).encode()), (0, []))
            status, out = request(proc, 2, encode_frame(RuntimeData.json(41)))
            self.assertEqual(status, 0)
            self.assertEqual(decode_frame(out[0])[1], RuntimeData.json(42))
            status, out = request(proc, 2, encode_frame(RuntimeData.json(13)))
            self.assertEqual(status, 1)
            report = json.loads(out[0])
            self.assertEqual(report["type"], "ValueError")
            self.assertIn("Traceback", report["traceback"])
            status, out = request(proc, 3)
            self.assertEqual(decode_frame(out[0])[1], RuntimeData.json("done"))
            self.assertEqual(request(proc, 4), (0, []))
            self.assertEqual(proc.wait(timeout=10), 0)
        finally:
            proc.kill()


STREAMING = """
import asyncio, os, threading
from remotemedia import Node
class Chunks(Node):
    def __init__(self, name=None, gate=None, **config):
        super().__init__(name, **config)
        self.gate = gate
        self.stop = threading.Event()
    def interrupt(self):
        self.stop.set()
    def process(self, data):
        if data == "gated":
            return self._gated()
        if data == "async":
            return self._forever()
        return self._until_interrupted()
    def _gated(self):
        yield "first"
        while not os.path.exists(self.gate):  # released by the test once it saw "first"
            self.stop.wait(0.005)
        yield "second"
    async def _forever(self):
        yield "first"
        while True:
            await asyncio.sleep(3600)
            yield "never"
    def _until_interrupted(self):
        yield "first"
        self.stop.wait()  # blocked in the node's own work until interrupt() runs
        self.stop.clear()
        yield "late"
"""


def response(proc):
    status, count = struct.unpack("<BI", proc.stdout.read(5))
    items = []
    for _ in range(count):
        (length,) = struct.unpack("<I", proc.stdout.read(4))
        items.append(proc.stdout.read(length))
    return status, items


def send(proc, op, payload=b""):
    proc.stdin.write(struct.pack("<BI", op, len(payload)) + payload)
    proc.stdin.flush()


def texts(items):
    return [decode_frame(item)[1].value for item in items]


class NodeRunnerStreamingTest(unittest.TestCase):
    def setUp(self):
        if IN_PYODIDE:
            raise unittest.SkipTest("Pyodide cannot start processes; the gateway runs this on CPython")
        import tempfile

        self.dir = tempfile.mkdtemp()
        self.gate = os.path.join(self.dir, "gate")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "remotemedia.node_runner"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PACKAGES,
        )
        spec = {"source": STREAMING, "params": {"gate": self.gate}}
        self.assertEqual(request(self.proc, 1, json.dumps(spec).encode()), (0, []))

    def tearDown(self):
        import shutil

        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_a_generator_s_first_item_arrives_while_its_call_is_still_running(self):
        send(self.proc, 2, encode_frame(RuntimeData.json("gated")))
        status, items = response(self.proc)  # read before the gate opens: the call cannot have ended
        self.assertEqual((status, texts(items)), (2, ["first"]))
        self.assertFalse(os.path.exists(self.gate))
        open(self.gate, "w").close()
        status, items = response(self.proc)
        self.assertEqual((status, texts(items)), (2, ["second"]))
        self.assertEqual(response(self.proc), (0, []))

    def test_cancel_stops_an_async_generator_and_is_answered_after_it(self):
        send(self.proc, 2, encode_frame(RuntimeData.json("async")))
        self.assertEqual(texts(response(self.proc)[1]), ["first"])
        send(self.proc, 5)
        self.assertEqual(response(self.proc), (0, []))  # the call's end: nothing after the cancel
        status, items = response(self.proc)
        self.assertEqual((status, json.loads(items[0])), (0, {"cancelled": 1}))
        # The runner serves on: the next call runs in full.
        open(self.gate, "w").close()
        send(self.proc, 2, encode_frame(RuntimeData.json("gated")))
        self.assertEqual([texts(response(self.proc)[1]) for _ in range(2)], [["first"], ["second"]])
        self.assertEqual(response(self.proc), (0, []))

    def test_cancel_calls_the_node_s_interrupt_and_drops_what_it_makes_after(self):
        send(self.proc, 2, encode_frame(RuntimeData.json("blocking")))
        self.assertEqual(texts(response(self.proc)[1]), ["first"])
        send(self.proc, 5)  # the node is blocked in its own work: only interrupt() frees it
        self.assertEqual(response(self.proc), (0, []))  # "late" was made, and dropped
        self.assertEqual(json.loads(response(self.proc)[1][0]), {"cancelled": 1})

    def test_a_cancel_with_no_call_running_stops_nothing(self):
        send(self.proc, 5)
        self.assertEqual(json.loads(response(self.proc)[1][0]), {"cancelled": 0})
        send(self.proc, 2, encode_frame(RuntimeData.json("async")))
        self.assertEqual(texts(response(self.proc)[1]), ["first"])
        send(self.proc, 5)
        send(self.proc, 5)  # twice: the second finds nothing left to stop
        self.assertEqual(response(self.proc), (0, []))
        self.assertEqual(json.loads(response(self.proc)[1][0]), {"cancelled": 1})
        self.assertEqual(json.loads(response(self.proc)[1][0]), {"cancelled": 0})


class NodeRunnerSpeechCancelTest(unittest.TestCase):
    """TextToSpeech (espeak-ng) in the runner: its chunks stream, and a cancel stops
    the synthesis mid-text (the espeak-ng child is gone) and drops what is left."""

    def setUp(self):
        if IN_PYODIDE:
            raise unittest.SkipTest("Pyodide cannot start processes; the gateway runs this on CPython")
        import shutil

        if shutil.which("espeak-ng") is None:
            raise unittest.SkipTest("espeak-ng is not installed (apt-get install espeak-ng)")

    def children(self, pid):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []
        names = []
        for kid in kids:
            try:
                with open(f"/proc/{kid}/comm") as f:
                    names.append(f.read().strip())
            except FileNotFoundError:
                pass
        return names

    def test_cancel_stops_the_synthesis_and_drops_the_rest(self):
        proc = subprocess.Popen(
            [sys.executable, "-m", "remotemedia.node_runner"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PACKAGES,
        )
        try:
            spec = {"class": "remotemedia.nodes.speech:TextToSpeech", "params": {"sample_rate": 16000, "chunk_ms": 50}}
            self.assertEqual(request(proc, 1, json.dumps(spec).encode())[0], 0)
            # One long sentence: one espeak-ng run, still writing when the first chunk arrives.
            text = " ".join(["and the reply goes on"] * 60)
            send(proc, 2, encode_frame(RuntimeData.text_data(text)))
            status, items = response(proc)
            self.assertEqual(status, 2)
            first = decode_frame(items[0])[1]
            self.assertEqual((first.kind, first.sample_rate), ("audio", 16000))
            send(proc, 5)
            more = 0
            while True:  # chunks already written before the cancel was read may still come
                status, items = response(proc)
                if status != 2:
                    break
                more += 1
            self.assertEqual((status, items), (0, []))
            self.assertEqual(json.loads(response(proc)[1][0]), {"cancelled": 1})
            self.assertNotIn("espeak-ng", self.children(proc.pid))
            # The node synthesizes the next text in full.
            send(proc, 2, encode_frame(RuntimeData.text_data("next")))
            chunks = 0
            while True:
                status, items = response(proc)
                if status != 2:
                    break
                chunks += 1
            self.assertEqual(status, 0)
            self.assertGreater(chunks, 3)
            # What one phrase of the long text comes to, uncancelled: the cancel must
            # have dropped most of the 60. Chunks already in the pipe and the runner's
            # queue when it read the cancel still come (tens on a loaded machine), so
            # the bound is a fraction of the whole text, not a count of chunks.
            send(proc, 2, encode_frame(RuntimeData.text_data("and the reply goes on")))
            phrase = 0
            while response(proc)[0] == 2:
                phrase += 1
            self.assertLess(more, 60 * phrase // 4)
        finally:
            proc.kill()
            proc.wait()
            proc.stdin.close()
            proc.stdout.close()
