/**
 * The core (src/ minus src/node.ts and src/node/) must run unchanged in
 * browsers, workers, Deno and Bun. tsconfig.core.json type-checks it without
 * Node's types; this test adds a guard that a cast, a `declare const` or a
 * `globalThis.process` would slip past: no host global of Node or the DOM is
 * named in code, and every import is relative (zero runtime dependencies,
 * no `node:` modules).
 *
 * The sources are parsed with TypeScript, so prose and strings may say
 * "window" (P-Net's 12x12 window) and object keys may be called `window`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from './helpers/data.ts';

/** Globals of Node or of a web page, absent or different in the other runtimes. */
const HOST_GLOBALS = new Set(['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'module', 'document', 'window']);

/** Every .ts file of the core, relative to the repository. */
function coreFiles(): string[] {
  const src = join(REPO_ROOT, 'src');
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const rel = relative(REPO_ROOT, p).split('\\').join('/');
      if (rel === 'src/node.ts' || rel === 'src/node') continue;
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push(rel);
    }
  };
  walk(src);
  return out.sort();
}

/** Whether an expression is `globalThis` or `self`, through parentheses and casts. */
function isGlobalObject(e: ts.Expression): boolean {
  while (
    ts.isParenthesizedExpression(e) ||
    ts.isAsExpression(e) ||
    ts.isTypeAssertionExpression(e) ||
    ts.isNonNullExpression(e) ||
    ts.isSatisfiesExpression(e)
  ) {
    e = e.expression;
  }
  return ts.isIdentifier(e) && (e.text === 'globalThis' || e.text === 'self');
}

/** Whether `id` is a name that only labels a member (`a.window`, `{ window: 1 }`), not a reference. */
function isMemberName(id: ts.Identifier): boolean {
  const p = id.parent;
  // globalThis.process / self.window reach the host global all the same.
  if (ts.isPropertyAccessExpression(p) && p.name === id) return !isGlobalObject(p.expression);
  return (
    (ts.isPropertyAssignment(p) ||
      ts.isPropertySignature(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isMethodSignature(p) ||
      ts.isGetAccessor(p) ||
      ts.isSetAccessor(p) ||
      ts.isEnumMember(p)) &&
    p.name === id
  );
}

/** What in one source text ties it to a host: `file:line: reason` each. */
function hostReferences(fileName: string, text: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const report = (node: ts.Node, what: string) =>
    found.push(`${fileName}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${what}`);
  const checkSpecifier = (spec: ts.Node | undefined) => {
    if (spec && ts.isStringLiteralLike(spec) && !/^\.\.?\//.test(spec.text)) {
      report(spec, `imports '${spec.text}' (the core imports only its own relative modules)`);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) checkSpecifier(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      checkSpecifier(node.moduleReference.expression);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      checkSpecifier(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      checkSpecifier(node.argument.literal);
    } else if (ts.isIdentifier(node) && HOST_GLOBALS.has(node.text) && !isMemberName(node)) {
      report(node, `names the host global '${node.text}'`);
    } else if (
      ts.isElementAccessExpression(node) &&
      isGlobalObject(node.expression) &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      HOST_GLOBALS.has(node.argumentExpression.text)
    ) {
      report(node, `reaches the host global '${node.argumentExpression.text}' by name`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const test = suite('core-neutral');

test('the checker finds each kind of host reference, and not prose, strings or member names', () => {
  const bad = [
    "import { readFileSync } from 'node:fs';",
    "export { x } from 'fs';",
    "import type { Foo } from 'some-package';",
    "const z = await import('node:zlib');",
    'type T = import("node:url").URL;',
    'const a = process.env.X;',
    'const b = Buffer.from([1]);',
    "const c = require('x');",
    'const d = __dirname + __filename;',
    'const e = document.title;',
    'const f = window.innerWidth;',
    'const g = (globalThis as any).process;',
    "const h = (globalThis as any)['Buffer'];",
    'declare const global: unknown;',
  ].join('\n');
  const found = hostReferences('bad.ts', bad);
  const lines = new Set(found.map((f) => Number(f.split(':')[1])));
  for (let line = 1; line <= 14; line++) assert.ok(lines.has(line), `line ${line} not reported; found:\n${found.join('\n')}`);

  const clean = [
    "import { a } from './a.ts';",
    "export type { B } from '../b.ts';",
    '// the 12x12 window of P-Net; process every level; a Buffer of rows',
    "const msg = 'each window is cut out; require a document';",
    'const box = { window: 12, process: 1 };',
    "const w = box.window + box.process + box['document'];",
    'interface I { document: string; global(): void }',
  ].join('\n');
  assert.equal(hostReferences('clean.ts', clean), []);
});

test('no core module references Node, the DOM, or a package', () => {
  const files = coreFiles();
  for (const must of ['src/index.ts', 'src/detect.ts', 'src/weights/format.ts']) {
    assert.ok(files.includes(must), `${must} is not among the core files checked: ${files.join(', ')}`);
  }
  assert.not.ok(files.some((f) => f.startsWith('src/node/') || f === 'src/node.ts'), 'the Node entry is not core');
  const found = files.flatMap((f) => hostReferences(f, readFileSync(join(REPO_ROOT, f), 'utf8')));
  assert.equal(found, [], `the core must stay runtime-neutral:\n  ${found.join('\n  ')}`);
});

test.run();
