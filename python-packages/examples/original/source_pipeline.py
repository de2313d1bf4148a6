import logging
logging.basicConfig(level=logging.DEBUG)

# You'll see:
# DEBUG: Rust runtime not available, falling back to Python executor
# INFO: Executing pipeline 'test' with Rust runtime
# INFO: Rust runtime execution completed for pipeline 'test'
# WARNING: Rust runtime execution failed: ..., falling back to Python executor

from remotemedia import Pipeline
from remotemedia.nodes.base import PassThroughNode

# Create pipeline
pipeline = Pipeline(name="my_pipeline")
pipeline.add_node(PassThroughNode(name="step1"))
pipeline.add_node(PassThroughNode(name="step2"))

# Execute (automatically uses Rust if available)
result = await pipeline.run([1, 2, 3, 4, 5])
print(result)  # [1, 2, 3, 4, 5]

# ADDED, the one line not in the notes: their block below uses AudioTransform without importing it.
from remotemedia.nodes.audio import AudioTransform

from remotemedia.nodes.audio import AudioSource

pipeline = Pipeline(name="source_pipeline")
pipeline.add_node(AudioSource(name="source"))
pipeline.add_node(AudioTransform(name="transform"))

# First node acts as source
result = await pipeline.run()
