/**
 * A node module of the app's own: its default export is an array of node
 * definitions. It imports nothing, so the browser loads it as it is; the pipeline
 * worker imports it (createRuntime({ nodeModules })), and so can the CLI and the
 * gateway (--nodes). WhereAmI tags each JSON input with the global scope it ran
 * in: 'DedicatedWorkerGlobalScope' in the pipeline worker, 'Window' on the page.
 */

/** Any Standard Schema works for params (zod, valibot...); this one takes {}. */
const noParams = {
  '~standard': {
    version: 1,
    vendor: 'my-app',
    validate: (value) =>
      value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value))
        ? { value: value ?? {} }
        : { issues: [{ message: 'expected an object' }] },
  },
};

export default [
  {
    type: 'WhereAmI',
    description: 'Tags each JSON input with the global scope it ran in.',
    params: noParams,
    accepts: ['json'],
    create() {
      return {
        process(input) {
          return {
            kind: 'json',
            value: { input: input.value, scope: globalThis.constructor.name },
          };
        },
      };
    },
  },
];
