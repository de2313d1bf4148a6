"""JSGF grammars: checked here before any engine sees them, so a grammar that does
not parse is an error naming its line (PocketSphinx's own parser reports garbage
line numbers), and a keyword list becomes a grammar of alternatives.

The subset checked is JSGF 1.0 as PocketSphinx reads it: a `#JSGF` header, a
`grammar` name, `import`s, and rules `[public] <name> = expansion ;` whose
expansions use words, "quoted words", `<rule>` references, `( )`, `[ ]`, `|`,
`*`, `+`, `/weight/` and `{tags}`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Sequence, Set, Tuple


class GrammarError(ValueError):
    """A grammar that does not parse, or names what does not exist; says which line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"grammar line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class Grammar:
    """A checked grammar: its text, the words it can produce (with the line of each), its rule names."""

    text: str
    words: Tuple[Tuple[str, int], ...]
    public_rules: Tuple[str, ...]


_TOKEN = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/|(?P<rule><[^<>\s]+>)|(?P<quoted>"(?:[^"\\]|\\.)*")|(?P<tag>\{[^}]*\})"""
    r"""|(?P<weight>/[0-9.eE+-]+/)|(?P<op>[=;|()\[\]*+])|(?P<word>[^\s;=|()\[\]*+<>{}"/]+)""",
    re.S,
)


def _tokens(text: str, first_line: int) -> List[Tuple[str, str, int]]:
    out: List[Tuple[str, str, int]] = []
    pos, line = 0, first_line
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise GrammarError(line, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup
        if kind is not None:
            out.append((kind, match.group(), line))
        line += match.group().count("\n")
        pos = match.end()
    return out


#: '(' and '[' inside one another at most (jsgf-grammar.ts's MAX_NESTING).
MAX_NESTING = 100


def parse_jsgf(text: str) -> Grammar:
    if not isinstance(text, str) or not text.strip():
        raise GrammarError(1, "the grammar is empty; it needs '#JSGF V1.0;', 'grammar <name>;' and a public rule")
    lines = text.split("\n")
    header = 0
    while header < len(lines) and not lines[header].strip():
        header += 1
    if not lines[header].lstrip().startswith("#JSGF"):
        raise GrammarError(header + 1, "must start with a header such as '#JSGF V1.0;'")
    if not lines[header].rstrip().endswith(";"):
        raise GrammarError(header + 1, "the '#JSGF' header must end with ';'")
    tokens = _tokens("\n".join(lines[header + 1 :]), header + 2)
    i = 0

    def at(k: int) -> Tuple[str, str, int]:
        return tokens[k] if k < len(tokens) else ("end", "end of grammar", tokens[-1][2] if tokens else header + 1)

    def expect(value: str) -> None:
        nonlocal i
        kind, got, line = at(i)
        if got != value:
            raise GrammarError(line, f"expected '{value}', found {got!r}")
        i += 1

    kind, value, line = at(i)
    if value != "grammar":
        raise GrammarError(line, f"expected 'grammar <name>;' after the header, found {value!r}")
    i += 1
    kind, value, line = at(i)
    if kind != "word":
        raise GrammarError(line, f"expected the grammar's name after 'grammar', found {value!r}")
    i += 1
    expect(";")
    while at(i)[1] == "import":
        i += 1
        if at(i)[0] != "rule":
            raise GrammarError(at(i)[2], f"expected '<grammar.rule>' after 'import', found {at(i)[1]!r}")
        i += 2 if at(i + 1)[1] == ";" else 1
    defined: Set[str] = set()
    public: List[str] = []
    references: List[Tuple[str, int]] = []
    words: List[Tuple[str, int]] = []

    def expansion(closer: str, depth: int) -> None:
        """Alternatives of sequences, up to `closer` (';', ')' or ']'), which is consumed.
        `depth` counts the '(' and '[' it is inside: past MAX_NESTING a grammar is
        refused at its line (each level is a call here: past Python's recursion
        limit it was a RecursionError)."""
        nonlocal i
        items = 0
        while True:
            kind, value, line = at(i)
            if value == closer:
                if items == 0:
                    raise GrammarError(line, f"nothing before {closer!r}: an alternative is empty")
                i += 1
                return
            if kind == "end":
                raise GrammarError(line, f"missing {closer!r}: the grammar ends inside a rule")
            if value == ";" or (value in (")", "]") and closer != value):
                raise GrammarError(line, f"missing {closer!r} before {value!r}")
            if value == "|":
                if items == 0:
                    raise GrammarError(line, "'|' with nothing before it: an alternative is empty")
                items = 0
                i += 1
                continue
            if kind == "weight" or kind == "tag":
                i += 1
                continue
            if value in ("(", "["):
                if depth >= MAX_NESTING:
                    raise GrammarError(
                        line, f"'{value}' nested more than {MAX_NESTING} deep: write the inner part as a rule of its own"
                    )
                i += 1
                expansion(")" if value == "(" else "]", depth + 1)
            elif kind == "rule":
                references.append((value[1:-1], line))
                i += 1
            elif kind == "word" or kind == "quoted":
                for word in (value[1:-1].split() if kind == "quoted" else [value]):
                    words.append((word, line))
                i += 1
            else:
                raise GrammarError(line, f"unexpected {value!r} (a ';' missing at the end of the line before?)")
            items += 1
            while at(i)[1] in ("*", "+"):
                i += 1

    while at(i)[0] != "end":
        kind, value, line = at(i)
        is_public = value == "public"
        if is_public:
            i += 1
            kind, value, line = at(i)
        if kind != "rule":
            raise GrammarError(line, f"expected a rule definition '<name> = ...;', found {value!r}")
        name = value[1:-1]
        if name in defined:
            raise GrammarError(line, f"rule <{name}> is defined twice")
        defined.add(name)
        if is_public:
            public.append(name)
        i += 1
        expect("=")
        expansion(";", 0)
    if not public:
        raise GrammarError(len(lines), "no public rule: mark the rule to recognise 'public <name> = ...;'")
    special = {"NULL", "VOID"}
    for name, line in references:
        if name not in defined and name not in special and "." not in name:
            raise GrammarError(line, f"<{name}> is not defined in this grammar")
    return Grammar(text, tuple(words), tuple(public))


_PHRASE = re.compile(r"^[A-Za-z0-9' -]+$")


def keywords_grammar(keywords: Sequence[str]) -> str:
    """A grammar whose only sentences are the given phrases: the accurate mode for commands."""
    if isinstance(keywords, str) or not isinstance(keywords, (list, tuple)) or not keywords:
        raise GrammarError(1, f"keywords must be a non-empty list of phrases, found {keywords!r}")
    phrases = []
    for at, phrase in enumerate(keywords):
        if not isinstance(phrase, str) or not phrase.strip() or not _PHRASE.match(phrase):
            raise GrammarError(
                1, f"keywords[{at}] must be words (letters, digits, apostrophes, hyphens), found {phrase!r}"
            )
        phrases.append(" ".join(phrase.lower().split()))
    return "#JSGF V1.0;\ngrammar keywords;\npublic <phrase> = " + " | ".join(phrases) + ";\n"
