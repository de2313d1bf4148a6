"""SpeechToText's grammar check (remotemedia/nodes/speech/grammar.py, the twin of
web/runtime/speech/jsgf-grammar.ts) against hostile grammars: nesting thousands of
levels deep must be a GrammarError naming its line, not a RecursionError out of the
node's params check; a 1 MB grammar and recursive rules are checked."""

import sys
import unittest

from remotemedia.nodes.speech.grammar import GrammarError, parse_jsgf

HEAD = "#JSGF V1.0;\ngrammar g;\n"


def nested(depth: int) -> str:
    return f"{HEAD}public <a> = {'(' * depth}go{')' * depth};\n"


class HostileGrammars(unittest.TestCase):
    # parse_jsgf recursed once per '(' or '[': past Python's recursion limit (about
    # 1000) a grammar raised RecursionError instead of a GrammarError with its line.
    def test_deep_nesting_is_a_grammar_error_at_its_line(self):
        for depth in (2000, 20_000):
            with self.assertRaises(GrammarError) as caught:
                parse_jsgf(nested(depth))
            self.assertEqual(caught.exception.line, 3)
            self.assertIn("nested more than 100 deep", str(caught.exception))
        self.assertEqual(len(parse_jsgf(nested(100)).words), 1)

    def test_a_1_mb_grammar_and_recursive_rules_are_checked(self):
        # 1 MB under CPython; a tenth inside Pyodide, whose whole suite has two minutes.
        count = 20_000 if sys.platform == "emscripten" else 200_000
        big = HEAD + "public <a> = " + " | ".join(["go", "stop"][i % 2] for i in range(count)) + ";\n"
        self.assertGreater(len(big), (1 << 20) * count // 200_000)
        self.assertEqual(len(parse_jsgf(big).words), count)
        recursive = HEAD + "public <a> = go <a> | stop;\n<b> = <b> go | stop;\n<c> = <d>;\n<d> = <c>;\n"
        self.assertEqual(list(parse_jsgf(recursive).public_rules), ["a"])


if __name__ == "__main__":
    unittest.main()
