// Vite without the plugin: the runtime as installed; the assets folder copied
// into public/remotemedia-web/.
import * as rm from 'remotemedia-web';
import { runChecks } from '../checks.js';

void runChecks(rm, { nodeModules: [new URL('../my-nodes.js', import.meta.url)] });
