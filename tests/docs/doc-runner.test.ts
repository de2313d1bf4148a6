import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { runShell, startBackground } from './block-runners.ts';
import { makeWorkspace, removeWorkspace } from './doc-workspace.ts';
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
      '<!-- doc-test: background (listening on) -->',
      '```bash',
      'serve',
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
      {
        line: 8,
        lang: 'bash',
        code: 'serve\n',
        marker: { kind: 'background', ready: 'listening on' },
      },
      { line: 12, lang: 'ts', code: 'export {};\n', marker: { kind: 'file', path: 'src/main.ts' } },
      { line: 15, lang: '', code: 'plain\n' },
    ]);
  });

  it.each([
    ['<!-- doc-test: skip -->', 'a skip says why'],
    ['<!-- doc-test: sometimes -->', "unknown doc-test marker 'sometimes'"],
    ['<!-- doc-test: file ../escape.ts -->', 'a path inside the workspace'],
    ['<!-- doc-test: background -->', 'says what it prints when ready'],
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

  describe('run in a workspace', () => {
    const workspace = makeWorkspace('project', 'runner-self-test');
    const stops: (() => void)[] = [];
    afterAll(() => {
      for (const stop of stops) stop();
      removeWorkspace(workspace);
    });
    const block = (code: string) => ({ line: 1, lang: 'sh', code });

    it('passes a transcript whose shown output is what it prints, in the workspace', async () => {
      await runShell(
        block('echo \'{"b": 2, "a": 1}\'\n# {"a":1,"b":2}\npwd\n# ' + workspace + '\n'),
        workspace,
      );
    });

    it('fails a transcript whose shown output drifted, naming the command', async () => {
      await expect(runShell(block('echo 6\n# 7\n'), workspace)).rejects.toThrow(
        /echo 6\nexpected:\n {2}7\nprinted:\n {2}6/,
      );
    });

    it('fails at the first failing command', async () => {
      await expect(runShell(block('true\nfalse\necho never\n'), workspace)).rejects.toThrow(
        /exit 1 in: false/,
      );
    });

    it('keeps a background server up for the blocks after it', async () => {
      const server = startBackground(
        block('echo starting\nexec /usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1\n'),
        workspace,
        'Serving HTTP',
      );
      stops.push(server.stop);
      await server.started;
      await expect(
        startBackground(block('echo bye\n'), workspace, 'never printed').started,
      ).rejects.toThrow(/exited \(code 0\) before printing "never printed":\nbye/);
    });
  });
});
