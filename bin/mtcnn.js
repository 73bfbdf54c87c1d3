#!/usr/bin/env node
// The `mtcnn` program. In a checkout (tsx, a dev dependency, is installed) it
// runs the TypeScript sources, so an edit shows at once; an installed package
// runs the compiled dist/.
import { existsSync } from 'node:fs';

async function load() {
  const source = new URL('../src/node/cli.ts', import.meta.url);
  if (existsSync(source)) {
    try {
      const { tsImport } = await import('tsx/esm/api');
      return await tsImport(source.href, import.meta.url);
    } catch (e) {
      if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    }
  }
  return import(new URL('../dist/node/cli.js', import.meta.url).href);
}

const cli = await load();
process.exitCode = await cli.main(process.argv.slice(2));
