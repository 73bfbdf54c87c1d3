#!/usr/bin/env node
// The `mtcnn` program. An installed package runs the compiled dist/; a
// checkout without a build runs the TypeScript sources through tsx (a dev
// dependency), so `npm run mtcnn -- ...` works straight after `npm install`.
import { existsSync } from 'node:fs';

const built = new URL('../dist/node/cli.js', import.meta.url);
const cli = existsSync(built)
  ? await import(built.href)
  : await (await import('tsx/esm/api')).tsImport('../src/node/cli.ts', import.meta.url);
process.exitCode = await cli.main(process.argv.slice(2));
