/**
 * The gateway's per-frame buffers come from the core's slabs (web/core/buffer-slab.ts),
 * the same ones its nodes' outputs use: one slab in use at a time in this process.
 */
export { slabBytes } from '../web/core/buffer-slab.ts';
