/**
 * Where this package's own files are, wherever it runs from: the repository (tsx
 * runs remote-gateway/*.ts) or an installed package (node runs
 * dist/remote-gateway/*.js). Node resolves the package's own name from inside it,
 * so the answer does not depend on how deep the running module sits.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The package root: the folder of remotemedia-web's package.json. */
export const PACKAGE_ROOT = dirname(require.resolve('remotemedia-web/package.json'));

/** The pure-Python packages (remotemedia, remotemedia_runtime) the node runner imports. */
export const PYTHON_PACKAGES = join(PACKAGE_ROOT, 'python-packages');
