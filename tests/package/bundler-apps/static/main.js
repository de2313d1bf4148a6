// No bundler: the prebuilt build's folder served as it is, imported by path.
import * as rm from './remotemedia-web/remotemedia-web.js';
import { runChecks } from './checks.js';

void runChecks(rm, { nodeModules: [new URL('./my-nodes.js', import.meta.url)] });
