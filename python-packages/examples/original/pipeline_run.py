import logging
logging.basicConfig(level=logging.DEBUG)

# You'll see:
# DEBUG: Rust runtime not available, falling back to Python executor
# INFO: Executing pipeline 'test' with Rust runtime
# INFO: Rust runtime execution completed for pipeline 'test'
# WARNING: Rust runtime execution failed: ..., falling back to Python executor

from remotemedia import Pipeline
from remotemedia.nodes import PassThroughNode, CalculatorNode

# Create pipeline
p = Pipeline(name="test")
p.add_node(PassThroughNode(name="pass1"))
p.add_node(CalculatorNode(name="calc", operation="add", operand=5))
p.add_node(PassThroughNode(name="pass2"))

# Execute with Rust runtime (transparent)
results = await p.run([1, 2, 3])
print(results)  # [6, 7, 8]
