/**
 * SpeechToText's grammar checker (jsgf-grammar.ts, the twin of the gateway's
 * grammar.py) against hostile grammars: nesting ten thousand levels deep, a 1 MB
 * grammar, recursive rules, an unterminated comment. Each must give a GrammarError
 * naming its line (a manifest issue at nodes[i].params.grammar), never a RangeError
 * out of the manifest check.
 */
import { describe, expect, it } from 'vitest';
import type { ManifestValidationError } from '../../core/errors.ts';
import { type Manifest, PipelineRunner } from '../../core/internal.ts';
import { GrammarError, parseJsgf } from './jsgf-grammar.ts';
import { createSpeechToText } from './speech-to-text-node.ts';

const HEAD = '#JSGF V1.0;\ngrammar g;\n';
const nested = (depth: number) =>
  `${HEAD}public <a> = ${'('.repeat(depth)}go${')'.repeat(depth)};\n`;

describe('hostile grammars', () => {
  // The checker recursed once per '(' or '[': 10,000 of them overflowed the stack,
  // and the node's params check let the RangeError out of manifest validation.
  it('nesting 10,000 deep is a GrammarError at its line, not a stack overflow', () => {
    for (const depth of [10_000, 100_000]) {
      let error: unknown;
      try {
        parseJsgf(nested(depth));
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(GrammarError);
      expect((error as GrammarError).line).toBe(3);
      expect((error as GrammarError).message).toMatch(/nested more than 100 deep/);
    }
    expect(parseJsgf(nested(100)).words).toEqual([{ word: 'go', line: 3 }]);
  });

  it('through the node: a manifest issue at nodes[0].params.grammar', () => {
    const runner = new PipelineRunner({
      nodes: [
        createSpeechToText({
          engines: {
            never: () => Promise.reject(new Error('the engine is not reached by a bad grammar')),
          },
        }),
      ],
    });
    const manifest: Manifest = {
      version: 'v1',
      metadata: { name: 'attack-grammar' },
      nodes: [{ id: 'stt', node_type: 'SpeechToText', params: { grammar: nested(20_000) } }],
      connections: [],
    };
    let error: unknown;
    try {
      runner.prepare(manifest);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).name).toBe('ManifestValidationError');
    const issues = (error as ManifestValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    expect(issues.join('\n')).toMatch(/nodes\[0\]\.params\.grammar: grammar line 3: .*nested/);
  });

  it('a 1 MB grammar of alternatives, and recursive rules, are checked (words with lines)', () => {
    const alternatives = Array.from({ length: 200_000 }, (_, i) => ['go', 'stop'][i % 2]);
    const big = `${HEAD}public <a> = ${alternatives.join(' | ')};\n`;
    expect(big.length).toBeGreaterThan(1 << 20);
    expect(parseJsgf(big).words).toHaveLength(200_000);
    // Right and left recursion are the engine's to judge; the checker takes both.
    const recursive = `${HEAD}public <a> = go <a> | stop;\n<b> = <b> go | stop;\n<c> = <d>;\n<d> = <c>;\n`;
    expect(parseJsgf(recursive).publicRules).toEqual(['a']);
  });

  it('an unterminated comment is a GrammarError naming its line', () => {
    expect(() => parseJsgf(`${HEAD}/* ${'x'.repeat(1 << 20)}\npublic <a> = go;\n`)).toThrow(
      /grammar line 3: unexpected character '\/'/,
    );
  });
});
