/**
 * PythonNode's params, shared by the browser's Pyodide node and the gateway's
 * CPython node: the same manifest entry runs in either place.
 */
import { z } from 'zod';

export const pythonNodeParams = z
  .strictObject({
    class: z.string().min(1).optional(),
    source: z.string().min(1).optional(),
    /** A pickled Node, base64: only on a gateway started with --allow-pickle. */
    pickle: z.string().min(1).optional(),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((p) => p.class !== undefined || p.source !== undefined || p.pickle !== undefined, {
    message:
      'a PythonNode needs "class" ("module:Class"), "source" (Python defining a Node subclass) or "pickle"',
    path: ['class'],
  });
