import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { codeBlocks } from './markdown-blocks.ts';
import { mismatch, outputsOf, parseTranscript, transcriptScript } from './shell-transcript.ts';

/** The doc-test machinery itself: a doc that drifts from the code must fail. */
describe('doc code blocks', () => {
  it('finds fenced blocks with their line, language and marker', () => {
    const md = [
      '# Title',
      '<!-- doc-test: skip (runs forever) -->',
      '',
      '```sh',
      'npm start',
      '```',
      '<!-- doc-test: file src/main.ts -->',
      '~~~ts',
      'export {};',
      '~~~',
      '```',
      'plain',
      '```',
    ].join('\n');
    expect(codeBlocks(md, 'x.md')).toEqual([
      {
        line: 4,
        lang: 'sh',
        code: 'npm start\n',
        marker: { kind: 'skip', reason: 'runs forever' },
      },
      { line: 8, lang: 'ts', code: 'export {};\n', marker: { kind: 'file', path: 'src/main.ts' } },
      { line: 11, lang: '', code: 'plain\n' },
    ]);
  });

  it.each([
    ['<!-- doc-test: skip -->', 'a skip says why'],
    ['<!-- doc-test: sometimes -->', "unknown doc-test marker 'sometimes'"],
    ['<!-- doc-test: file ../escape.ts -->', 'a path inside the workspace'],
  ])('rejects the marker %s', (marker, says) => {
    expect(() => codeBlocks(`${marker}\n\`\`\`sh\nls\n\`\`\`\n`, 'x.md')).toThrow(says);
  });

  it('reads a transcript: shown outputs belong to the command right above them', () => {
    const commands = parseTranscript(
      [
        '# prose before anything',
        'echo one \\',
        '  two',
        '# one two',
        '',
        '# prose after a blank line',
        'cat <<EOF',
        'a line',
        'EOF',
        'true',
      ].join('\n'),
    );
    expect(commands).toEqual([
      { text: 'echo one \\\n  two', expected: ['one two'] },
      { text: 'cat <<EOF\na line\nEOF' },
      { text: 'true' },
    ]);
  });

  it('splits a script run into each command output', () => {
    const commands = parseTranscript('echo a\necho b; echo c\nfalse\necho never');
    let stdout = '';
    try {
      execFileSync('bash', ['-c', transcriptScript(commands)], { encoding: 'utf8' });
    } catch (error) {
      stdout = (error as { stdout: string }).stdout;
    }
    const outputs = outputsOf(`\n${stdout}`);
    expect([...outputs]).toEqual([
      [0, ['a']],
      [1, ['b', 'c']],
      [2, []],
    ]);
  });

  it('compares JSON as JSON, text exactly, and lets "..." stand for any lines', () => {
    expect(mismatch(['{"a":1,"b":[2]}'], ['{"b":[2],"a":1}'])).toBeUndefined();
    expect(mismatch(['first', '...', 'last'], ['first', 'x', 'y', 'last'])).toBeUndefined();
    expect(mismatch(['...'], [])).toBeUndefined();
    expect(mismatch(['{"value":6}'], ['{"value":7}'])).toContain('printed:\n  {"value":7}');
    expect(mismatch(['valid (3 nodes)'], ['valid (3 nodes)', 'more'])).toBeDefined();
    expect(mismatch(['a'], [])).toBeDefined();
  });
});
