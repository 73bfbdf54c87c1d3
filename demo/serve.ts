/**
 * `npm run demo`: a tiny static server for the browser demo, bound to
 * 127.0.0.1 only. It serves what the page loads and nothing else:
 *
 *   /                   -> redirect to /demo/
 *   /demo/...           -> demo/ (index.html, demo.js)
 *   /dist/...           -> dist/, the compiled core (`npm run build`)
 *   /weights/mtcnn.bin  -> the exported weights file (`npm run weights`)
 *   /photos/index.json  -> the names of the shared photos, for the page's shortcuts
 *   /photos/<name>      -> a shared photo from $MTCNN_DATA/images, else
 *                          ../shared/mtcnn/images beside the repository
 *
 * Read-only (GET and HEAD), nothing cached (a rebuild shows on reload), and
 * paths that leave their folder (`..`, encoded or not) are refused. With
 * `--isolated` every response carries the two headers that make the page
 * cross-origin isolated (COOP same-origin, COEP require-corp), so that the
 * page has SharedArrayBuffer and WebParallelDetector shares the image with
 * its workers instead of copying it; the page can then load nothing from
 * other origins.
 *
 *     npm run demo                 # port 8080
 *     npm run demo -- --port 0     # any free port; the URL is printed
 *     npm run demo -- --isolated   # cross-origin isolated (see above)
 * @module
 */
import { existsSync, readdirSync, statSync, createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the shared photos are: the same rule as the tests' reference material. */
export const PHOTOS_DIR = resolve(process.env.MTCNN_DATA ?? join(REPO_ROOT, '..', 'shared', 'mtcnn'), 'images');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8', // declaration files, for the curious
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.bin': 'application/octet-stream',
};

/** Photo names the /photos/ route accepts: one plain file name, an image extension. */
const PHOTO_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(png|jpe?g)$/i;

export interface ServerOptions {
  /** 0 picks any free port. */
  port: number;
  /** Repository root holding demo/, dist/ and weights/. */
  root?: string;
  photosDir?: string;
  /** Send COOP/COEP so that the page is cross-origin isolated (has SharedArrayBuffer). */
  isolated?: boolean;
}

export interface DemoServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

/**
 * The file under `dir` that a URL path (already without its route prefix)
 * names, or null when it is not inside `dir`. Decoding first, then checking
 * every segment, refuses `..`, `%2e%2e`, `%2f` tricks and backslashes alike.
 */
export function safeJoin(dir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null; // malformed %-escape
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return null;
  const base = resolve(dir);
  const file = resolve(base, ...segments);
  return file === base || file.startsWith(base + sep) ? file : null;
}

/** The file a request path maps to, or an HTTP status to answer instead. */
function route(pathname: string, root: string, photosDir: string): string | { status: number; location?: string } {
  if (pathname === '/') return { status: 302, location: '/demo/' };
  if (pathname === '/demo') return { status: 302, location: '/demo/' };
  if (pathname === '/weights/mtcnn.bin') return join(root, 'weights', 'mtcnn.bin');
  if (pathname.startsWith('/photos/')) {
    const name = pathname.slice('/photos/'.length);
    if (!PHOTO_NAME.test(name)) return { status: 404 };
    return join(photosDir, name);
  }
  for (const dir of ['demo', 'dist']) {
    if (pathname.startsWith(`/${dir}/`)) {
      let file = safeJoin(join(root, dir), pathname.slice(dir.length + 2));
      if (file === null) return { status: 403 };
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      return file;
    }
  }
  return { status: 404 };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** The headers that make a page cross-origin isolated. */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

function handle(req: IncomingMessage, res: ServerResponse, root: string, photosDir: string, isolated: boolean): void {
  if (isolated) for (const [name, value] of Object.entries(ISOLATION)) res.setHeader(name, value);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'read-only server\n', { Allow: 'GET, HEAD' });
  // Only the path matters; the base is a placeholder for the URL parser.
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (pathname === '/photos/index.json') {
    const names = existsSync(photosDir) ? readdirSync(photosDir).filter((n) => PHOTO_NAME.test(n)).sort() : [];
    return send(res, 200, JSON.stringify(names), { 'Content-Type': TYPES['.json'] });
  }
  const target = route(pathname, root, photosDir);
  if (typeof target !== 'string') {
    const headers: Record<string, string> = target.location ? { Location: target.location } : {};
    return send(res, target.status, `${target.status}\n`, headers);
  }
  let size: number;
  try {
    const st = statSync(target);
    if (!st.isFile()) return send(res, 404, '404\n');
    size = st.size;
  } catch {
    return send(res, 404, '404\n');
  }
  res.writeHead(200, {
    'Content-Type': TYPES[extname(target).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(size),
    'Cache-Control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(target).pipe(res);
}

/** Starts the server on 127.0.0.1; resolves once it listens. */
export function startServer(options: ServerOptions): Promise<DemoServer> {
  const root = options.root ?? REPO_ROOT;
  const photosDir = options.photosDir ?? PHOTOS_DIR;
  const isolated = options.isolated ?? false;
  const server = createServer((req, res) => handle(req, res, root, photosDir, isolated));
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolvePromise({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            // Chromium keeps connections alive; drop them so close() returns now.
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  let values: { port: string; isolated: boolean };
  try {
    const options = { port: { type: 'string', default: '8080' }, isolated: { type: 'boolean', default: false } } as const;
    ({ values } = parseArgs({ args: argv, options, strict: true }));
  } catch (e) {
    process.stderr.write(`demo/serve.ts: ${(e as Error).message}\nusage: npm run demo -- [--port N] [--isolated]\n`);
    return 2;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`demo/serve.ts: --port must be an integer in [0, 65535], got ${values.port}\n`);
    return 2;
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'index.js'))) {
    process.stderr.write('note: dist/ is missing; run `npm run build` (`npm run demo` does it first)\n');
  }
  if (!existsSync(join(REPO_ROOT, 'weights', 'mtcnn.bin'))) {
    process.stderr.write('note: weights/mtcnn.bin is missing; run `npm run weights`, or pick the file in the page\n');
  }
  const server = await startServer({ port, isolated: values.isolated });
  process.stdout.write(`mtcnn-ts demo: ${server.url}demo/  (Ctrl-C to stop)\n`);
  return 0;
}

// Run as a script (npm run demo); the browser test imports startServer instead.
const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  process.exitCode = await main(process.argv.slice(2));
}
