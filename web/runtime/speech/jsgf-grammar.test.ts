/**
 * The browser's JSGF checker against the gateway's (grammar.py under /usr/bin/python3):
 * the same grammars fail with the same message, naming the same line, so a
 * SpeechToText grammar is refused alike wherever the node runs.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GrammarError, keywordsGrammar, parseJsgf } from './jsgf-grammar.ts';

const GRAMMARS = [
  '#JSGF V1.0;\ngrammar g;\npublic <g> = turn on | stop\n<x> = open;\n',
  '#JSGF V1.0;\ngrammar g;\npublic <g> = turn on the <thing>;\n',
  '#JSGF V1.0;\ngrammar g;\npublic <g> = turn on (the radio;\n',
  '#JSGF V1.0;\ngrammar g;\npublic <g> = stop |;\n',
  '#JSGF V1.0;\ngrammar g;\n\n\npublic <g> = | stop;\n',
  '#JSGF V1.0;\ngrammar g;\n<g> = stop;\n',
  '#JSGF V1.0\ngrammar g;\npublic <g> = stop;\n',
  'grammar g;\npublic <g> = stop;\n',
  '',
  '#JSGF V1.0;\ngrammar g;\npublic <g> = stop;\npublic <g> = go;\n',
  '#JSGF V1.0;\ngrammar g;\n/* a comment\n over lines */\npublic <g> = [please] (stop | go) <NULL> "turn on" /2.0/ {tag};\n',
  '#JSGF V1.0;\ngrammar g;\npublic <g> = stop ] go;\n',
  '#JSGF V1.0;\ngrammar g;\npublic <g> = stop = go;\n',
];

/** What grammar.py says of each grammar: "ok <words>" or its GrammarError message. */
function gatewayVerdicts(grammars: string[]): string[] {
  const script = [
    'import json, sys',
    'from remotemedia.nodes.speech.grammar import GrammarError, parse_jsgf',
    'out = []',
    'for text in json.load(sys.stdin):',
    '    try:',
    '        out.append("ok " + " ".join(w for w, _ in parse_jsgf(text).words))',
    '    except GrammarError as error:',
    '        out.append(str(error))',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script], {
      cwd: 'python-packages',
      input: JSON.stringify(grammars),
      encoding: 'utf8',
    }),
  ) as string[];
}

function browserVerdict(text: string): string {
  try {
    return `ok ${parseJsgf(text)
      .words.map((w) => w.word)
      .join(' ')}`;
  } catch (error) {
    if (error instanceof GrammarError) return error.message;
    throw error;
  }
}

describe('JSGF checker (browser) against grammar.py (gateway)', () => {
  it('gives the same verdict and the same line for each grammar', () => {
    const gateway = gatewayVerdicts(GRAMMARS);
    const browser = GRAMMARS.map(browserVerdict);
    expect(browser).toEqual(gateway);
    // The cases do exercise both outcomes, and errors past line 1.
    expect(browser.filter((v) => v.startsWith('ok')).length).toBeGreaterThan(0);
    expect(browser.filter((v) => /^grammar line [3-9]/.test(v)).length).toBeGreaterThan(3);
  });

  it('makes a keyword list into the same grammar as the gateway', () => {
    const keywords = ['Turn on  the light', 'stop'];
    const gateway = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json, sys; from remotemedia.nodes.speech.grammar import keywords_grammar; print(json.dumps(keywords_grammar(json.load(sys.stdin))))',
      ],
      { cwd: 'python-packages', input: JSON.stringify(keywords), encoding: 'utf8' },
    );
    expect(keywordsGrammar(keywords)).toBe(JSON.parse(gateway));
    expect(() => keywordsGrammar(['stop!'])).toThrow(
      "grammar line 1: keywords[0] must be words (letters, digits, apostrophes, hyphens), found 'stop!'",
    );
  });
});
