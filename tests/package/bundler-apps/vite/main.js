// Vite (with the remotemedia-web/vite plugin): the runtime as installed.
import * as rm from 'remotemedia-web';
import { runChecks } from '../checks.js';

void runChecks(rm, { nodeModules: [new URL('../my-nodes.js', import.meta.url)] });
