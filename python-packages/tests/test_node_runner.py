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
