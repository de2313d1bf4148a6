import { z } from 'zod';
import { defineNode } from '../../node-contract.ts';

/** Emits every input unchanged. */
export const PassThrough = defineNode({
  type: 'PassThrough',
  aliases: ['PassThroughNode'],
  description: 'Emits every input unchanged.',
  params: z.object({}),
  synchronous: true,
  create: () => ({ process: (input) => input }),
});
