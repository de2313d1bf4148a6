"""Runs the package's tests under CPython (`python3 tests/run.py`) or inside Pyodide
(`await run_tests(...)`), where asyncio.run cannot block: test methods may be
coroutines, and are awaited here rather than by unittest's own runner."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import traceback
import unittest
from typing import Dict, Iterator, List


def _flatten(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _flatten(test)
        else:
            yield test


async def run_tests(start_dir: str) -> Dict[str, object]:
    suite = unittest.TestLoader().discover(start_dir, pattern="test_*.py", top_level_dir=os.path.dirname(start_dir))
    passed: List[str] = []
    failed: List[str] = []
    skipped: List[str] = []
    for test in _flatten(suite):
        if isinstance(test, unittest.loader._FailedTest):  # an import error in a test module
            failed.append(f"{test.id()}: {test._exception}")
            continue
        method = getattr(test, test._testMethodName)
        try:
            test.setUp()
            try:
                result = method()
                if inspect.isawaitable(result):
                    await result
            finally:
                test.tearDown()
            passed.append(test.id())
        except unittest.SkipTest as reason:
            skipped.append(f"{test.id()}: {reason}")
        except Exception:
            failed.append(f"{test.id()}\n{traceback.format_exc()}")
    return {"passed": passed, "failed": failed, "skipped": skipped, "python": sys.version.split()[0]}


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.dirname(here))
    summary = asyncio.run(run_tests(here))
    for failure in summary["failed"]:
        print("FAIL", failure, file=sys.stderr)
    for skip in summary["skipped"]:
        print("SKIP", skip)
    print(
        f"python {summary['python']}: {len(summary['passed'])} passed, "
        f"{len(summary['failed'])} failed, {len(summary['skipped'])} skipped"
    )
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
