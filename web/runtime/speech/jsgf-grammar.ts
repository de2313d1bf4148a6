/**
 * JSGF grammars, checked before an engine sees them: PocketSphinx's own parser
 * reports a grammar's errors "at line 1" whatever the line (its lexer counts no
 * lines for string input), so the node finds the line itself. The same checks, in
 * the same words, as the gateway's (python-packages/remotemedia/nodes/speech/grammar.py),
 * so a grammar fails alike on both sides. Also makes a keyword list into a grammar.
 *
 * The subset checked is JSGF 1.0 as PocketSphinx reads it: a `#JSGF` header, a
 * `grammar` name, `import`s, and rules `[public] <name> = expansion ;` whose
 * expansions use words, "quoted words", `<rule>` references, `( )`, `[ ]`, `|`,
 * `*`, `+`, `/weight/` and `{tags}`. Pure functions, no engine.
 */

/** A grammar that does not parse, or names what does not exist; `line` is 1-based. */
export class GrammarError extends Error {
  override name = 'GrammarError';
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`grammar line ${line}: ${detail}`);
  }
}

/** A checked grammar: its text, each word it can produce with its line, its public rules. */
export interface CheckedGrammar {
  readonly text: string;
  readonly words: readonly { word: string; line: number }[];
  readonly publicRules: readonly string[];
}

type Kind = 'rule' | 'quoted' | 'tag' | 'weight' | 'op' | 'word' | 'end';
interface Token {
  kind: Kind;
  value: string;
  line: number;
}

// The gateway's token pattern, group for group (whitespace and comments are skipped).
const TOKEN = new RegExp(
  String.raw`\s+|//[^\n]*|/\*[\s\S]*?\*/|(?<rule><[^<>\s]+>)|(?<quoted>"(?:[^"\\]|\\.)*")|(?<tag>\{[^}]*\})` +
    String.raw`|(?<weight>/[0-9.eE+-]+/)|(?<op>[=;|()\[\]*+])|(?<word>[^\s;=|()\[\]*+<>{}"/]+)`,
  'y',
);
const KINDS: readonly Exclude<Kind, 'end'>[] = ['rule', 'quoted', 'tag', 'weight', 'op', 'word'];

function tokens(text: string, firstLine: number): Token[] {
  const out: Token[] = [];
  let line = firstLine;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) throw new GrammarError(line, `unexpected character '${text[at]}'`);
    const kind = KINDS.find((k) => match.groups?.[k] !== undefined);
    if (kind !== undefined) out.push({ kind, value: match[0], line });
    line += match[0].split('\n').length - 1;
  }
  return out;
}

/** '(' and '[' inside one another at most (grammar.py's MAX_NESTING). */
const MAX_NESTING = 100;

export function parseJsgf(text: string): CheckedGrammar {
  if (!text.trim()) {
    throw new GrammarError(
      1,
      "the grammar is empty; it needs '#JSGF V1.0;', 'grammar <name>;' and a public rule",
    );
  }
  const lines = text.split('\n');
  let header = 0;
  while (header < lines.length && !lines[header]!.trim()) header++;
  if (!lines[header]!.trimStart().startsWith('#JSGF')) {
    throw new GrammarError(header + 1, "must start with a header such as '#JSGF V1.0;'");
  }
  if (!lines[header]!.trimEnd().endsWith(';')) {
    throw new GrammarError(header + 1, "the '#JSGF' header must end with ';'");
  }
  const list = tokens(lines.slice(header + 1).join('\n'), header + 2);
  let i = 0;
  const at = (k: number): Token =>
    list[k] ?? { kind: 'end', value: 'end of grammar', line: list.at(-1)?.line ?? header + 1 };
  const expect = (value: string) => {
    const token = at(i);
    if (token.value !== value) {
      throw new GrammarError(token.line, `expected '${value}', found '${token.value}'`);
    }
    i++;
  };

  if (at(i).value !== 'grammar') {
    throw new GrammarError(
      at(i).line,
      `expected 'grammar <name>;' after the header, found '${at(i).value}'`,
    );
  }
  i++;
  if (at(i).kind !== 'word') {
    throw new GrammarError(
      at(i).line,
      `expected the grammar's name after 'grammar', found '${at(i).value}'`,
    );
  }
  i++;
  expect(';');
  while (at(i).value === 'import') {
    i++;
    if (at(i).kind !== 'rule') {
      throw new GrammarError(
        at(i).line,
        `expected '<grammar.rule>' after 'import', found '${at(i).value}'`,
      );
    }
    i += at(i + 1).value === ';' ? 2 : 1;
  }
  const defined = new Set<string>();
  const publicRules: string[] = [];
  const references: { name: string; line: number }[] = [];
  const words: { word: string; line: number }[] = [];

  /**
   * Alternatives of sequences, up to `closer` (';', ')' or ']'), which is consumed.
   * `depth` counts the '(' and '[' it is inside: past MAX_NESTING a grammar is
   * refused at its line (each level is a call here: 10,000 overflowed the stack).
   */
  const expansion = (closer: string, depth: number): void => {
    let items = 0;
    for (;;) {
      const { kind, value, line } = at(i);
      if (value === closer) {
        if (items === 0) {
          throw new GrammarError(line, `nothing before '${closer}': an alternative is empty`);
        }
        i++;
        return;
      }
      if (kind === 'end') {
        throw new GrammarError(line, `missing '${closer}': the grammar ends inside a rule`);
      }
      if (value === ';' || ((value === ')' || value === ']') && closer !== value)) {
        throw new GrammarError(line, `missing '${closer}' before '${value}'`);
      }
      if (value === '|') {
        if (items === 0) {
          throw new GrammarError(line, "'|' with nothing before it: an alternative is empty");
        }
        items = 0;
        i++;
        continue;
      }
      if (kind === 'weight' || kind === 'tag') {
        i++;
        continue;
      }
      if (value === '(' || value === '[') {
        if (depth >= MAX_NESTING) {
          throw new GrammarError(
            line,
            `'${value}' nested more than ${MAX_NESTING} deep: write the inner part as a rule of its own`,
          );
        }
        i++;
        expansion(value === '(' ? ')' : ']', depth + 1);
      } else if (kind === 'rule') {
        references.push({ name: value.slice(1, -1), line });
        i++;
      } else if (kind === 'word' || kind === 'quoted') {
        const spoken =
          kind === 'quoted' ? value.slice(1, -1).split(/\s+/).filter(Boolean) : [value];
        for (const word of spoken) words.push({ word, line });
        i++;
      } else {
        throw new GrammarError(
          line,
          `unexpected '${value}' (a ';' missing at the end of the line before?)`,
        );
      }
      items++;
      while (at(i).value === '*' || at(i).value === '+') i++;
    }
  };

  while (at(i).kind !== 'end') {
    let token = at(i);
    const isPublic = token.value === 'public';
    if (isPublic) {
      i++;
      token = at(i);
    }
    if (token.kind !== 'rule') {
      throw new GrammarError(
        token.line,
        `expected a rule definition '<name> = ...;', found '${token.value}'`,
      );
    }
    const name = token.value.slice(1, -1);
    if (defined.has(name)) throw new GrammarError(token.line, `rule <${name}> is defined twice`);
    defined.add(name);
    if (isPublic) publicRules.push(name);
    i++;
    expect('=');
    expansion(';', 0);
  }
  if (publicRules.length === 0) {
    throw new GrammarError(
      lines.length,
      "no public rule: mark the rule to recognise 'public <name> = ...;'",
    );
  }
  for (const { name, line } of references) {
    if (!defined.has(name) && name !== 'NULL' && name !== 'VOID' && !name.includes('.')) {
      throw new GrammarError(line, `<${name}> is not defined in this grammar`);
    }
  }
  return { text, words, publicRules };
}

const PHRASE = /^[A-Za-z0-9' -]+$/;

/**
 * A grammar whose only sentences are the given phrases: the accurate mode for
 * commands, as the gateway makes it (so both sides hear the same).
 */
export function keywordsGrammar(keywords: readonly string[]): string {
  if (keywords.length === 0) {
    throw new GrammarError(1, 'keywords must be a non-empty list of phrases, found []');
  }
  const phrases = keywords.map((phrase, at) => {
    if (!phrase.trim() || !PHRASE.test(phrase)) {
      throw new GrammarError(
        1,
        `keywords[${at}] must be words (letters, digits, apostrophes, hyphens), found '${phrase}'`,
      );
    }
    return phrase.toLowerCase().split(/\s+/).filter(Boolean).join(' ');
  });
  return `#JSGF V1.0;\ngrammar keywords;\npublic <phrase> = ${phrases.join(' | ')};\n`;
}
