import unittest

import remotemedia_runtime
from remotemedia import Node, Pipeline
from remotemedia.nodes import CalculatorNode, PassThroughNode
from remotemedia.nodes.base import PassThroughNode as PassThroughFromBase


def original_pipeline() -> Pipeline:
    p = Pipeline(name="test")
    p.add_node(PassThroughNode(name="pass1"))
    p.add_node(CalculatorNode(name="calc", operation="add", operand=5))
    p.add_node(PassThroughNode(name="pass2"))
    return p


class Doubler(Node):
    """A custom node the runtime cannot know: a generator emitting two outputs."""

    def process(self, data):
        yield data
        yield data * 2


class Summer(Node):
    """Holds inputs back and emits their sum when the stream ends."""

    def initialize(self):
        self.total = 0

    def process(self, data):
        self.total += data

    async def flush(self):
        return self.total


class PipelineTest(unittest.TestCase):
    async def test_the_original_example_on_the_default_path(self):
        p = original_pipeline()
        self.assertEqual(await p.run([1, 2, 3]), [6, 7, 8])
        if remotemedia_runtime.is_available():
            self.assertEqual(p.last_run[0], "runtime")
        else:
            self.assertEqual(p.last_run[0], "python")
            self.assertIn("no RemoteMedia runtime", p.last_run[1])

    async def test_use_runtime_false_forces_the_fallback_with_the_same_results(self):
        p = original_pipeline()
        self.assertEqual(await p.run([1, 2, 3], use_runtime=False), [6, 7, 8])
        self.assertEqual(p.last_run, ("python", "use_runtime=False"))

    async def test_the_originals_use_rust_and_the_log_line_saying_which_path_ran(self):
        p = original_pipeline()
        with self.assertLogs("remotemedia.pipeline", "INFO") as logs:
            self.assertEqual(await p.run([1, 2, 3], use_rust=False), [6, 7, 8])
        self.assertEqual(p.last_run, ("python", "use_rust=False"))
        self.assertIn("pipeline 'test': running on the pure-Python executor, because use_rust=False", logs.output[0])
        with self.assertLogs("remotemedia.pipeline", "INFO") as logs:
            await p.run([1])
        self.assertIn("runtime" if remotemedia_runtime.is_available() else "no RemoteMedia runtime", logs.output[-1])

    async def test_the_originals_streaming_api_initialize_process_cleanup(self):
        p = Pipeline("summing")
        p.add_node(Summer(name="sum"))
        await p.initialize()
        try:

            async def input_gen():
                for item in (1, 2, 3):
                    yield item

            results = [r async for r in p.process(input_gen())]
            self.assertEqual(results, [6])
            self.assertTrue(p.nodes["sum"].is_initialized)  # up until cleanup()
        finally:
            await p.cleanup()
        self.assertFalse(p.nodes["sum"].is_initialized)

    async def test_an_unknown_custom_node_falls_back(self):
        p = Pipeline("custom")
        p.add_node(CalculatorNode(name="calc", operation="multiply", operand=3))
        p.add_node(Doubler(name="twice"))
        self.assertEqual(await p.run([1, 2]), [3, 6, 6, 12])
        self.assertEqual(p.last_run[0], "python")
        if remotemedia_runtime.is_available():
            self.assertIn("'twice' (Doubler)", p.last_run[1])

    async def test_single_items_and_lists_of_numbers(self):
        p = original_pipeline()
        self.assertEqual(await p.run(42), [47])
        self.assertEqual(await p.run([[1, 2]]), [[6, 7]])

    async def test_flush_emits_at_the_end_and_fan_out_follows_connections(self):
        p = Pipeline("fan")
        p.add_node(PassThroughFromBase(name="in"))
        p.add_node(CalculatorNode(name="plus", operation="add", operand=1))
        p.add_node(Summer(name="sum"))
        p.connect("in", "plus").connect("in", "sum")
        self.assertEqual(await p.run([1, 2, 3]), [2, 3, 4, 6])

    async def test_process_streams_outputs_as_inputs_arrive(self):
        p = original_pipeline()

        async def inputs():
            for v in (10, 20):
                yield v

        self.assertEqual([out async for out in p.process(inputs())], [15, 25])

    def test_serialize_gives_a_v1_manifest(self):
        import json

        manifest = json.loads(original_pipeline().serialize())
        self.assertEqual(manifest["version"], "v1")
        self.assertEqual([n["node_type"] for n in manifest["nodes"]], ["PassThroughNode", "CalculatorNode", "PassThroughNode"])
        self.assertEqual(manifest["nodes"][1]["params"], {"operation": "add", "operand": 5})
        self.assertEqual(manifest["connections"], [{"from": "pass1", "to": "calc"}, {"from": "calc", "to": "pass2"}])

    async def test_a_node_error_names_the_node(self):
        p = original_pipeline()
        with self.assertRaises(Exception) as caught:
            await p.run(["seven"], use_runtime=False)
        self.assertIn("calc", str(caught.exception))

    def test_bad_construction_is_refused(self):
        with self.assertRaises(ValueError):
            CalculatorNode(name="c", operation="power", operand=2)
        p = original_pipeline()
        with self.assertRaises(ValueError):
            p.add_node(PassThroughNode(name="pass1"))
        with self.assertRaises(ValueError):
            p.connect("pass1", "nowhere")
