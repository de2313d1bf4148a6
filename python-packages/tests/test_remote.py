"""Against a real gateway: tests/node/python-package.test.ts starts one and passes its
address in REMOTEMEDIA_TEST_GATEWAY (host:port:token). Without it there is nothing
to talk to, and the tests say so."""

import os
import unittest

from remotemedia import Node, Pipeline
from remotemedia.nodes import CalculatorNode
from remotemedia.remote import RemoteExecutorConfig, RemoteObjectExecutionNode, RemoteProxyClient
from remotemedia.remote.client import RemoteExecutionError


class Shout(Node):
    """Defined here (not importable on the gateway): travels as its source."""

    def process(self, data):
        return f"{data}!".upper()


def config() -> RemoteExecutorConfig:
    try:
        import pyodide  # noqa: F401

        raise unittest.SkipTest("remote execution from Pyodide (the browser's WebSocket) is not built yet")
    except ImportError:
        pass
    address = os.environ.get("REMOTEMEDIA_TEST_GATEWAY")
    if not address:
        raise unittest.SkipTest("no gateway: run through tests/node/python-package.test.ts")
    host, port, token = address.split(":", 2)
    return RemoteExecutorConfig(host=host, port=int(port), token=token)


class RemoteTest(unittest.TestCase):
    async def test_a_local_node_then_a_remote_object_streams_results_back(self):
        remote = config()
        pipeline = Pipeline("speech_chain_shape")
        pipeline.add_node(CalculatorNode(name="local", operation="add", operand=1))
        pipeline.add_node(
            RemoteObjectExecutionNode(
                obj_to_execute=CalculatorNode(name="calc", operation="multiply", operand=10),
                remote_config=remote,
                name="remote_calc",
            )
        )
        self.assertEqual(await pipeline.run([1, 2, 3]), [20, 30, 40])

    async def test_proxy_of_a_class_defined_in_user_code(self):
        async with RemoteProxyClient(config()) as client:
            remote = await client.create_proxy(Shout(name="shout"))
            self.assertEqual(await remote.process("hey"), "HEY!")

            async def words():
                for w in ("a", "b", "c"):
                    yield w

            self.assertEqual([out async for out in remote.stream(words())], ["A!", "B!", "C!"])

    async def test_a_wrong_token_is_refused(self):
        bad = config()
        bad.token = "not-the-token"
        async with RemoteProxyClient(bad) as client:
            remote = await client.create_proxy(Shout(name="shout"))
            with self.assertRaises(RemoteExecutionError) as caught:
                await remote.process("x")
            self.assertIn("unauthorized", str(caught.exception))
