import asyncio
import remotemedia_runtime

async def main():
    manifest = '''
    {
        "version": "v1",
        "metadata": {"name": "test"},
        "nodes": [
            {
                "id": "pass1",
                "node_type": "PassThrough",
                "params": {}
            }
        ],
        "connections": []
    }
    '''

    results = await remotemedia_runtime.execute_pipeline_with_input(
        manifest,
        [1, 2, 3, 4, 5]
    )
    print(results)

asyncio.run(main())
