/**
 * Core executor benchmarks, in Node: the original's 3-node example and the
 * per-item cost of a long chain, each against plain JavaScript doing the same work
 * in the same run.
 */
import { Bench } from 'tinybench';
import calculatorManifest from '../examples/manifests/calculator.json' with { type: 'json' };
import { type JsonData, type Manifest, PipelineRunner, RuntimeData } from '../web/core/internal.ts';
import { type BenchSection, type BenchTable, rowsOf } from './report.ts';

const runner = new PipelineRunner();
const manifestJson = JSON.stringify(calculatorManifest);
const prepared = runner.prepare(calculatorManifest as Manifest);
const five = [1, 2, 3, 4, 5].map((v) => RuntimeData.json(v));

/** The same three steps as plain async functions: what a hand-written pipeline costs. */
const pass = async (d: RuntimeData) => d;
const add5 = async (d: RuntimeData) => RuntimeData.json(((d as JsonData).value as number) + 5);
async function plainThreeSteps(inputs: RuntimeData[]): Promise<RuntimeData[]> {
  const out: RuntimeData[] = [];
  for (const input of inputs) out.push(await pass(await add5(await pass(input))));
  return out;
}

const CHAIN = 100;
const ITEMS = 2000;
const chainManifest: Manifest = {
  version: 'v1',
  metadata: { name: 'chain' },
  nodes: Array.from({ length: CHAIN }, (_, i) => ({
    id: `n${i}`,
    node_type: 'PassThrough',
    params: {},
  })),
  connections: Array.from({ length: CHAIN - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
};
const chain = runner.prepare(chainManifest);
const chainInputs = Array.from({ length: ITEMS }, (_, i) => RuntimeData.json(i));

/** 100 async generators piped into each other: the idiomatic plain-JS stream. */
async function plainGeneratorChain(inputs: RuntimeData[]): Promise<number> {
  let stream: AsyncIterable<RuntimeData> = (async function* () {
    yield* inputs;
  })();
  for (let i = 0; i < CHAIN; i++) {
    const upstream = stream;
    stream = (async function* () {
      for await (const item of upstream) yield item;
    })();
  }
  let count = 0;
  for await (const _ of stream) count++;
  return count;
}

export async function benchCorePipeline(): Promise<BenchSection> {
  const check = await runner.executeBatch(manifestJson, five);
  if (JSON.stringify(check.map((d) => (d as JsonData).value)) !== '[6,7,8,9,10]') {
    throw new Error('3-node pipeline gave wrong outputs; refusing to benchmark it');
  }

  const small = new Bench({ time: 1500, warmupTime: 300 });
  small
    .add('plain JS: 3 async steps over 5 inputs (baseline)', () => plainThreeSteps(five))
    .add('executeUnary(manifest JSON text, [1,2,3,4,5]): validated once per text', () =>
      runner.executeUnary(manifestJson, RuntimeData.json([1, 2, 3, 4, 5])),
    )
    .add('executeBatch(manifest object, 5 inputs): validated on every call', () =>
      runner.executeBatch(calculatorManifest as Manifest, five),
    )
    .add('executeBatch(prepared, 5 inputs)', () => runner.executeBatch(prepared, five))
    .add('executeUnary(prepared, [1,2,3,4,5])', () =>
      runner.executeUnary(prepared, RuntimeData.json([1, 2, 3, 4, 5])),
    );
  await small.run();

  const long = new Bench({ time: 3000, warmupTime: 500, iterations: 5 });
  long
    .add(`plain JS: ${CHAIN} chained async generators, ${ITEMS} items (baseline)`, () =>
      plainGeneratorChain(chainInputs),
    )
    .add(`PipelineSession: ${CHAIN} PassThrough nodes, ${ITEMS} items`, () =>
      runner.executeBatch(chain, chainInputs),
    );
  await long.run();

  const original = 1.45;
  const unary = rowsOf(small.tasks)[1]!.p50;
  const full = rowsOf(small.tasks)[2]!.p50;
  return {
    title: 'Core executor (Node)',
    tables: [
      tableOf(
        small.tasks,
        1,
        `The original RemoteMedia reports ${original} ms for this pipeline on its Python executor and 4.33 ms through its Rust runtime (its own figures, not measured here). ` +
          `Our goal: at least 30x faster than ${original} ms, i.e. under ${((original / 30) * 1000).toFixed(0)} µs. ` +
          `Measured here: executeUnary with the manifest text ${(unary * 1000).toFixed(1)} µs (${(original / unary).toFixed(0)}x faster than ${original} ms); ` +
          `validating the manifest on every call ${(full * 1000).toFixed(1)} µs (${(original / full).toFixed(0)}x).`,
      ),
      tableOf(long.tasks, ITEMS * CHAIN),
    ],
  };
}

function tableOf(tasks: Bench['tasks'], perUnit: number, note?: string): BenchTable {
  return {
    unit: perUnit === 1 ? 'per run' : `per item per node (${perUnit} item-node hops a run)`,
    note,
    rows: rowsOf(tasks, perUnit),
  };
}
