from remotemedia import Pipeline
from remotemedia.nodes.base import PassThroughNode

# Create your pipeline
pipeline = Pipeline("my_pipeline")
pipeline.add_node(PassThroughNode(name="step1"))
pipeline.add_node(PassThroughNode(name="step2"))

# Run it! (Rust runtime automatic)
import asyncio

result = asyncio.run(pipeline.run([1, 2, 3, 4, 5]))
print(result)  # [1, 2, 3, 4, 5]
