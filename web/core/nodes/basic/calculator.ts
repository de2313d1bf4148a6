import { z } from 'zod';
import { RemoteMediaError } from '../../errors.ts';
import { defineNode } from '../../node-contract.ts';
import { type JsonData, type JsonValue, RuntimeData } from '../../runtime-data.ts';

const OPERATIONS = {
  add: (x: number, y: number) => x + y,
  subtract: (x: number, y: number) => x - y,
  multiply: (x: number, y: number) => x * y,
  divide: (x: number, y: number) => x / y,
} as const;

const params = z
  .strictObject({
    operation: z.enum(Object.keys(OPERATIONS) as [keyof typeof OPERATIONS]),
    operand: z.number().refine(Number.isFinite, 'must be a finite number'),
  })
  .refine((p) => !(p.operation === 'divide' && p.operand === 0), {
    message: 'operand must not be 0 for divide',
    path: ['operand'],
  });

/**
 * Applies `operation operand` to a JSON number, or to each number of a JSON array
 * (the original's CalculatorNode: add 5 turns [1, 2, 3] into [6, 7, 8]).
 */
export const Calculator = defineNode({
  type: 'Calculator',
  aliases: ['CalculatorNode'],
  description: 'Applies add, subtract, multiply or divide with an operand to JSON numbers.',
  params,
  accepts: ['json'],
  synchronous: true,
  create({ operation, operand }, { nodeId }) {
    const apply = OPERATIONS[operation];
    const compute = (value: JsonValue): number => {
      if (typeof value !== 'number') {
        throw new RemoteMediaError(
          'invalid_data',
          `Calculator expects a JSON number or an array of numbers, found ${JSON.stringify(value)}`,
          { nodeId },
        );
      }
      return apply(value, operand);
    };
    return {
      process(input) {
        const { value } = input as JsonData; // `accepts` lets only json through
        return RuntimeData.json(Array.isArray(value) ? value.map(compute) : compute(value));
      },
    };
  },
});
