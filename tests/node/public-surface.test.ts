/**
 * The package's public names, pinned: a name added to or dropped from an entry
 * fails here, so the surface changes only on purpose. Each entry's names (values
 * and types) are read from its source by the TypeScript parser, following
 * `export *`; the values are checked against what importing the entry gives.
 * What the runtime, the gateway and the CLI share is in web/core/internal.ts,
 * which is no entry.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** The core's public names: every entry but the gateway's starts with these. */
const CORE_VALUES = [
  'ManifestValidationError',
  'NodeExecutionError',
  'PipelineRunner',
  'RemoteMediaError',
  'RuntimeData',
  'defineNode',
];
const CORE_TYPES = [
  'AnyNodeDefinition',
  'AudioData',
  'BinaryData',
  'ControlData',
  'ControlSignal',
  'ErrorKind',
  'EventData',
  'JsonData',
  'JsonValue',
  'Manifest',
  'ManifestIssue',
  'ManifestNode',
  'NodeDefinition',
  'NodeInstance',
  'NodeMetricsSnapshot',
  'PipelineRunnerOptions',
  'PipelineTransport',
  'PixelFormat',
  'RemoteConfig',
  'RuntimeDataKind',
  'SessionOptions',
  'SessionOutput',
  'StreamSession',
  'TensorDType',
  'TensorData',
  'TextData',
  'VideoData',
];

const BROWSER_VALUES = [
  ...CORE_VALUES,
  'AudioPlayback',
  'RemoteProxyClient',
  'audioBlocks',
  'createRuntime',
  'decodeAudio',
  'openAudioFile',
  'openMicrophone',
];
const BROWSER_TYPES = [
  ...CORE_TYPES,
  'AudioSource',
  'GatewayClientOptions',
  'RemoteSession',
  'RestartedEvent',
  'Runtime',
  'RuntimeOptions',
  'RuntimeSession',
  'RuntimeStreamOptions',
];

/** package.json export -> its source and its pinned names. */
const ENTRIES = {
  'remotemedia-web (node)': {
    source: 'web/index.node.ts',
    values: [...CORE_VALUES, 'RemoteProxyClient', 'SileroVAD'],
    types: [...CORE_TYPES, 'GatewayClientOptions', 'RemoteSession', 'RestartedEvent'],
  },
  'remotemedia-web (browser, default)': {
    source: 'web/index.ts',
    values: BROWSER_VALUES,
    types: BROWSER_TYPES,
  },
  'remotemedia-web/core': { source: 'web/core/index.ts', values: CORE_VALUES, types: CORE_TYPES },
  // The prebuilt no-bundler build: the browser entry's names exactly.
  'remotemedia-web/browser': {
    source: 'web/prebuilt.ts',
    values: BROWSER_VALUES,
    types: BROWSER_TYPES,
  },
  'remotemedia-web/gateway': {
    source: 'remote-gateway/index.ts',
    values: ['mintGatewayToken', 'startGateway'],
    types: ['Gateway', 'GatewayGrantsInput', 'GatewayOptions', 'MintOptions'],
  },
} as const;

interface ExportedName {
  name: string;
  typeOnly: boolean;
}

/** Every name a module exports, by parsing it (and what it re-exports with `export *`). */
function exportedNames(file: string): ExportedName[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names: ExportedName[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const from = statement.moduleSpecifier as ts.StringLiteral | undefined;
      if (!statement.exportClause) {
        names.push(...exportedNames(join(dirname(file), from!.text)));
      } else if (ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) {
          names.push({
            name: element.name.text,
            typeOnly: statement.isTypeOnly || element.isTypeOnly,
          });
        }
      }
    } else if (
      ts.canHaveModifiers(statement) &&
      ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    ) {
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          names.push({ name: (declaration.name as ts.Identifier).text, typeOnly: false });
        }
      } else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
        names.push({ name: statement.name.text, typeOnly: true });
      } else if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) {
        names.push({ name: statement.name!.text, typeOnly: false });
      }
    }
  }
  return names;
}

const sorted = (names: readonly string[]) => [...names].sort();

describe('public surface', () => {
  for (const [entry, pinned] of Object.entries(ENTRIES)) {
    it(`${entry} exports exactly its pinned names`, () => {
      const names = exportedNames(join(ROOT, pinned.source));
      expect(sorted(names.filter((n) => !n.typeOnly).map((n) => n.name))).toEqual(
        sorted(pinned.values),
      );
      expect(sorted(names.filter((n) => n.typeOnly).map((n) => n.name))).toEqual(
        sorted(pinned.types),
      );
    });
  }

  it('importing the Node entries gives their pinned values', async () => {
    for (const entry of [
      'remotemedia-web (node)',
      'remotemedia-web/core',
      'remotemedia-web/gateway',
    ] as const) {
      const module = (await import(join(ROOT, ENTRIES[entry].source))) as object;
      expect(sorted(Object.keys(module)), entry).toEqual(sorted(ENTRIES[entry].values));
    }
  });

  it('package.json maps each entry to the build of its source, Node and browser apart', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, Record<string, unknown>>;
    };
    const built = (source: string) => `./dist/${source.replace(/\.ts$/, '.js')}`;
    const root = manifest.exports['.']!;
    expect(root.node).toMatchObject({ default: built(ENTRIES['remotemedia-web (node)'].source) });
    expect(root.default).toMatchObject({
      default: built(ENTRIES['remotemedia-web (browser, default)'].source),
    });
    expect(manifest.exports['./core']).toMatchObject({
      default: built(ENTRIES['remotemedia-web/core'].source),
    });
    expect(manifest.exports['./gateway']).toMatchObject({
      node: built(ENTRIES['remotemedia-web/gateway'].source),
    });
  });
});
