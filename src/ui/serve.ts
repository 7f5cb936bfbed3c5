import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the page's files are: `static/` beside this module, in the sources
 * (src/ui/static) and in the build (dist/ui/static, copied by `npm run build`).
 */
export const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page may load only its own files and talk only to its own origin: an
 * injected script could not run, nor send the token anywhere else.
 */
const HEADERS = {
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface Dashboard {
  /** The answer for a path under `/ui`, or undefined when there is no such file. */
  respond(path: string): Response | undefined;
  /** The files served, by name. */
  readonly files: readonly string[];
}

/**
 * The dashboard's static files, read once: they hold no data, so serving
 * them needs no token (every API call the page makes sends one). Only the
 * files found at start are served, by exact name: a path can never reach
 * outside the folder.
 */
export function dashboard(dir: string = STATIC_DIR): Dashboard {
  const files = new Map<string, { body: Uint8Array; type: string }>();
  // A build without its static files still serves the API; /ui/ then says what is missing.
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type !== undefined) files.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return {
    files: [...files.keys()].sort(),
    respond(path) {
      if (path === '/ui') return new Response(null, { status: 308, headers: { location: '/ui/' } });
      if (!path.startsWith('/ui/')) return undefined;
      const name = path === '/ui/' ? 'index.html' : path.slice('/ui/'.length);
      const file = files.get(name);
      if (file === undefined && name === 'index.html')
        return new Response(
          'The dashboard is not installed: its files are missing from this build (npm run build).\n',
          {
            status: 404,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          },
        );
      if (file === undefined) return undefined;
      return new Response(file.body, {
        status: 200,
        headers: { ...HEADERS, 'content-type': file.type },
      });
    },
  };
}
