// webpack 5: the runtime as installed; webpack emits its workers and worklets.
import * as rm from 'remotemedia-web';
import { runChecks } from '../checks.js';

void runChecks(rm, { nodeModules: [new URL('../my-nodes.js', import.meta.url)] });
