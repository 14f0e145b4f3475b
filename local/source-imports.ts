/**
 * A module hook for running this repository's TypeScript from source on
 * Node.js 24 (type stripping): a relative import of `./x.js` from a .ts file
 * loads `./x.ts` when there is no `./x.js` beside it, as tsc resolves it.
 * Used by scripts/demo.sh for local/check-demo-flags.ts.
 */
import {existsSync} from 'node:fs';
import {registerHooks} from 'node:module';
import {fileURLToPath} from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      /^\.\.?\//.test(specifier) &&
      specifier.endsWith('.js') &&
      context.parentURL?.startsWith('file:') &&
      context.parentURL.endsWith('.ts')
    ) {
      const js = new URL(specifier, context.parentURL);
      const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(ts)))
        return nextResolve(ts.href, context);
    }
    return nextResolve(specifier, context);
  },
});
