"""Runs one of these snippets as the original docs ran them: in an asyncio REPL or a
notebook, where `await` works at the top level (`python -m asyncio` does the same,
line by line). The snippet's text is compiled as it is; nothing is added to it.

    python run.py pipeline_run.py"""

import ast
import asyncio
import inspect
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as file:
    code = compile(file.read(), path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__", "__file__": path}
# With a top-level await, evaluating the code gives a coroutine to run; without,
# it simply runs (a snippet that calls asyncio.run itself).
result = eval(code, namespace)
if inspect.iscoroutine(result):
    asyncio.run(result)
