import { describe, expect, it } from 'vitest';
import { type ManifestIssue, ManifestValidationError } from './errors.ts';
import { validateManifest } from './manifest-validation.ts';
import { createDefaultRegistry } from './nodes/builtin-nodes.ts';

const registry = createDefaultRegistry();

const node = (id: string, node_type = 'PassThrough', params: Record<string, unknown> = {}) => ({
  id,
  node_type,
  params,
});

const manifest = (overrides: Record<string, unknown>) => ({
  version: 'v1',
  metadata: { name: 'test' },
  nodes: [node('a')],
  connections: [],
  ...overrides,
});

function issuesOf(input: unknown): ManifestIssue[] {
  try {
    validateManifest(input, registry);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestValidationError);
    expect((error as ManifestValidationError).kind).toBe('manifest_invalid');
    return (error as ManifestValidationError).issues;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('validateManifest', () => {
  it('accepts the original example manifest and applies param schemas', () => {
    const ok = validateManifest(
      manifest({ nodes: [node('calc', 'CalculatorNode', { operation: 'add', operand: 5 })] }),
      registry,
    );
    expect(ok.graph.sources).toEqual(['calc']);
    expect(ok.manifest.nodes[0]!.params).toEqual({ operation: 'add', operand: 5 });
  });

  it('keeps fields it does not know, so manifests written for the original load', () => {
    const ok = validateManifest(
      manifest({ nodes: [{ ...node('a'), is_streaming: true }], extra: { x: 1 } }),
      registry,
    );
    expect(ok.manifest.nodes[0]!.is_streaming).toBe(true);
  });

  it.each([
    ['missing', undefined, 'missing'],
    ['wrong', 'v2', 'found "v2"'],
  ])('rejects a %s version at path `version`', (_, version, found) => {
    const [issue] = issuesOf(manifest({ version }));
    expect(issue).toMatchObject({ code: 'invalid_version', path: 'version' });
    expect(issue!.message).toContain(found);
    expect(issue!.message).toContain('"v1"');
  });

  it('rejects text that is not JSON', () => {
    expect(issuesOf('{"version": "v1",')[0]).toMatchObject({ code: 'invalid_structure', path: '' });
  });

  it('names the path of a structural problem deep inside', () => {
    const [issue] = issuesOf(manifest({ nodes: [node('a'), { id: 'b', params: {} }] }));
    expect(issue).toMatchObject({ code: 'invalid_structure', path: 'nodes[1].node_type' });
    expect(issue!.message).toContain('missing');
  });

  it('checks a docker entry: a limit below the engine minimum, a malformed Python version', () => {
    const boxed = {
      ...node('a'),
      docker: { python_version: '3', resource_limits: { memory_mb: 1 } },
    };
    const issues = issuesOf(manifest({ nodes: [boxed] }));
    expect(issues.map((i) => i.path).sort()).toEqual([
      'nodes[0].docker.python_version',
      'nodes[0].docker.resource_limits.memory_mb',
    ]);
    expect(issues.find((i) => i.path.endsWith('memory_mb'))!.message).toContain('at least 6');
  });

  it('rejects duplicate ids, naming both places', () => {
    const [issue] = issuesOf(manifest({ nodes: [node('a'), node('b'), node('a')] }));
    expect(issue).toMatchObject({ code: 'duplicate_id', path: 'nodes[2].id', nodeId: 'a' });
    expect(issue!.message).toContain('nodes[0]');
  });

  it('rejects an unknown node_type, listing the known ones and the closest', () => {
    const [issue] = issuesOf(manifest({ nodes: [node('a', 'Calculater')] }));
    expect(issue).toMatchObject({ code: 'unknown_node_type', path: 'nodes[0].node_type' });
    expect(issue!.message).toContain("Did you mean 'Calculator'?");
    expect(issue!.message).toContain('Known types: PassThrough, Calculator');
  });

  it('rejects params that fail the node schema, at nodes[i].params.<name>', () => {
    const issues = issuesOf(
      manifest({
        nodes: [
          node('a'),
          node('b'),
          node('c', 'Calculator', { operation: 'add', operand: 'five' }),
        ],
        connections: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
        ],
      }),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: 'invalid_params',
      path: 'nodes[2].params.operand',
      nodeId: 'c',
    });
    expect(issues[0]!.message).toContain('expected number');
    expect(issues[0]!.message).toContain('found "five"');
  });

  it('rejects unknown params and invalid combinations from the node schema', () => {
    const issues = issuesOf(
      manifest({
        nodes: [node('c', 'Calculator', { operation: 'divide', operand: 0, opernd: 1 })],
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'nodes[0].params',
      'nodes[0].params.operand',
    ]);
    expect(issues.map((i) => i.message).join(' ')).toMatch(/opernd/);
  });

  it('rejects connections to unknown nodes, listing the ids', () => {
    const [issue] = issuesOf(manifest({ connections: [{ from: 'a', to: 'nope' }] }));
    expect(issue).toMatchObject({ code: 'unknown_connection_node', path: 'connections[0].to' });
    expect(issue!.message).toContain("unknown node 'nope'; node ids are: a");
  });

  it('rejects cycles, naming the nodes in order', () => {
    const issues = issuesOf(
      manifest({
        nodes: [node('src'), node('b'), node('c'), node('d')],
        connections: [
          { from: 'src', to: 'b' },
          { from: 'b', to: 'c' },
          { from: 'c', to: 'd' },
          { from: 'd', to: 'b' },
        ],
      }),
    );
    expect(issues).toEqual([expect.objectContaining({ code: 'cycle', path: 'connections' })]);
    expect(issues[0]!.message).toMatch(
      /cycle: (b -> c -> d -> b|c -> d -> b -> c|d -> b -> c -> d)/,
    );
  });

  it('rejects a self-loop as a cycle', () => {
    const issues = issuesOf(
      manifest({ nodes: [node('s'), node('a')], connections: [{ from: 'a', to: 'a' }] }),
    );
    expect(issues.map((i) => i.code)).toContain('cycle');
    expect(issues.find((i) => i.code === 'cycle')!.message).toContain('a -> a');
  });

  it('rejects nodes that no source reaches', () => {
    const issues = issuesOf(
      manifest({
        nodes: [node('src'), node('x'), node('y')],
        connections: [
          { from: 'x', to: 'y' },
          { from: 'y', to: 'x' },
        ],
      }),
    );
    const unreachable = issues.filter((i) => i.code === 'unreachable');
    expect(unreachable.map((i) => [i.path, i.nodeId])).toEqual([
      ['nodes[1]', 'x'],
      ['nodes[2]', 'y'],
    ]);
  });

  it('rejects placement that contradicts itself', () => {
    const issues = issuesOf(
      manifest({
        nodes: [
          { ...node('a'), executor: 'remote' },
          { ...node('b'), executor: 'worker', remote: { host: '127.0.0.1', port: 8080 } },
          { ...node('c'), executor: 'gpu' },
        ],
      }),
    );
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ['invalid_structure', 'nodes[2].executor'],
      ['invalid_placement', 'nodes[0].remote'],
      ['invalid_placement', 'nodes[1].executor'],
    ]);
    const placement = issuesOf(
      manifest({
        nodes: [
          { ...node('a'), executor: 'remote' },
          { ...node('b'), executor: 'worker', remote: { host: '127.0.0.1', port: 8080 } },
        ],
      }),
    );
    expect(placement.map((i) => [i.code, i.path])).toEqual([
      ['invalid_placement', 'nodes[0].remote'],
      ['invalid_placement', 'nodes[1].executor'],
    ]);
  });

  it('reports every problem at once, and the message lists them with paths', () => {
    try {
      validateManifest(
        manifest({
          nodes: [
            node('a', 'Nope'),
            node('a'),
            node('c', 'Calculator', { operation: 'pow', operand: 1 }),
          ],
          connections: [{ from: 'ghost', to: 'a' }],
        }),
        registry,
      );
      expect.unreachable();
    } catch (error) {
      const e = error as ManifestValidationError;
      expect(e.issues.map((i) => i.path)).toEqual([
        'nodes[0].node_type',
        'nodes[1].id',
        'nodes[2].params.operation',
        'connections[0].from',
      ]);
      expect(e.message).toContain('4 problems');
      expect(e.message).toContain('  - nodes[2].params.operation: ');
      expect(ManifestValidationError.fromJSON(e.toJSON())).toMatchObject({ issues: e.issues });
    }
  });

  it('a structure problem hides nothing: missing metadata, unknown type, duplicate id, bad operand', () => {
    const issues = issuesOf({
      version: 'v1',
      nodes: [
        node('a', 'Calculator', { operation: 'add', operand: 'x' }),
        node('b', 'Calculater'),
        node('a'),
        { id: 'd', params: [] },
      ],
      connections: [{ from: 'a', to: 'b' }, { from: 'b' }, { from: 'b', to: 'zz' }],
    });
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ['invalid_structure', 'metadata'],
      ['invalid_structure', 'nodes[3].node_type'],
      ['invalid_structure', 'nodes[3].params'],
      ['invalid_structure', 'connections[1].to'],
      ['invalid_params', 'nodes[0].params.operand'],
      ['unknown_node_type', 'nodes[1].node_type'],
      ['duplicate_id', 'nodes[2].id'],
      ['unknown_connection_node', 'connections[2].to'],
    ]);
  });

  it('does not change the object it was given when it rejects it', () => {
    const input = { nodes: [node('c', 'Calculator', { operation: 'add' })] };
    issuesOf(input);
    expect(input.nodes[0]!.params).toEqual({ operation: 'add' });
  });
});
