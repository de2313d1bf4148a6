/**
 * The fenced code blocks of a Markdown file, each with its line, language and the
 * `<!-- doc-test: ... -->` marker written right before it (only blank lines may
 * stand between). Markers say how a block that is not simply run is treated:
 *   <!-- doc-test: skip (why) -->      not run; the reason is listed by the test
 *   <!-- doc-test: browser -->         browser-only code, not run in Node
 *   <!-- doc-test: file <path> -->     written into the doc's workspace, for later blocks
 *   <!-- doc-test: background (text) --> a shell block that runs for ever (a server): started,
 *                                        awaited until it prints `text`, ended after the doc
 */

export type Marker =
  | { kind: 'skip'; reason: string }
  | { kind: 'browser'; reason: string }
  | { kind: 'file'; path: string }
  | { kind: 'background'; ready: string };

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower-cased ('' when there is none). */
  lang: string;
  code: string;
  marker?: Marker;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)/;
const MARKER = /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/;

export function codeBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const text = lines[j]!;
      if (text.trimStart().startsWith(fence!) && text.trim().replaceAll(fence![0]!, '') === '')
        break;
      body.push(text.startsWith(indent!) ? text.slice(indent!.length) : text.trimStart());
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a code fence is never closed`);
    blocks.push({
      line: i + 1,
      lang: lang!.toLowerCase(),
      code: `${body.join('\n')}\n`,
      ...markerBefore(lines, i, file),
    });
    i = j;
  }
  return blocks;
}

function markerBefore(lines: string[], fence: number, file: string): { marker?: Marker } {
  let k = fence - 1;
  while (k >= 0 && lines[k]!.trim() === '') k--;
  const match = k >= 0 ? MARKER.exec(lines[k]!) : null;
  if (!match) return {};
  const text = match[1]!;
  const where = `${file}:${k + 1}`;
  const reason = /^\((.+)\)$/.exec(text.replace(/^\w+\s*/, ''))?.[1]?.trim();
  if (text.startsWith('skip')) {
    if (!reason) throw new Error(`${where}: a skip says why: <!-- doc-test: skip (reason) -->`);
    return { marker: { kind: 'skip', reason } };
  }
  if (text.startsWith('browser'))
    return { marker: { kind: 'browser', reason: reason ?? 'browser-only code' } };
  if (text.startsWith('background')) {
    if (!reason) {
      throw new Error(
        `${where}: a background block says what it prints when ready: <!-- doc-test: background (listening on) -->`,
      );
    }
    return { marker: { kind: 'background', ready: reason } };
  }
  const file_ = /^file\s+(\S+)$/.exec(text);
  if (file_) {
    const path = file_[1]!;
    if (path.startsWith('/') || path.split('/').includes('..')) {
      throw new Error(`${where}: a file marker names a path inside the workspace, not '${path}'`);
    }
    return { marker: { kind: 'file', path } };
  }
  throw new Error(
    `${where}: unknown doc-test marker '${text}'; use "skip (reason)", "browser", "file <path>" or "background (ready text)"`,
  );
}
