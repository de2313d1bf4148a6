/**
 * `npm run gateway:image [-- --tag name:tag]`: builds the container executor's image
 * from this machine's python3 and the remotemedia package (see container-image.ts).
 */
import { parseArgs } from 'node:util';
import { buildPythonImage, DEFAULT_IMAGE } from './container-image.ts';

const { values } = parseArgs({ options: { tag: { type: 'string', default: DEFAULT_IMAGE } } });
const started = performance.now();
const tag = await buildPythonImage({ tag: values.tag });
console.log(`built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
