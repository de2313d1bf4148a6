// esbuild: the prebuilt build (esbuild does not bundle workers), its folder
// copied beside the bundle.
import * as rm from 'remotemedia-web/browser';
import { runChecks } from '../checks.js';

void runChecks(rm, { nodeModules: [new URL('./my-nodes.js', import.meta.url)] });
