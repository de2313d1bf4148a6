// esbuild: the prebuilt build (esbuild does not bundle workers), its folder
// copied to out/remotemedia-web/ and named with assetsBase (beside the bundle it
// would be found without).
import * as rm from 'remotemedia-web/browser';
import { runChecks } from '../checks.js';

void runChecks(rm, {
  assetsBase: new URL('./remotemedia-web/', import.meta.url),
  nodeModules: [new URL('./my-nodes.js', import.meta.url)],
});
