import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Serves the built React UI (web/dist) with an SPA fallback to index.html. Vite's hashed files
 * under /assets/ never change, so they are cached for a year; index.html is revalidated every
 * time so a new build is picked up at once.
 */

/** web/dist relative to the package root; this file sits two levels below it in src/ and in dist/. */
export const DEFAULT_WEB_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'web', 'dist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zai-proxy dashboard</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem">
<h1>zai-proxy dashboard</h1>
<p>The web UI is not built. Run <code>npm run build</code>, then reload this page.</p>
<p>The API is up: <a href="api/status">/api/status</a>, <a href="api/metrics?range=1h">/api/metrics</a>, <a href="api/canary">/api/canary</a>, <a href="api/events">/api/events</a>.</p>
</body></html>
`;

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): void {
  const stat = statSync(file);
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': stat.size,
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
    'last-modified': stat.mtime.toUTCString(),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function createWebAssets(root: string = DEFAULT_WEB_ROOT) {
  const base = resolve(root);
  return (req: IncomingMessage, res: ServerResponse, pathname: string): void => {
    const index = join(base, 'index.html');
    if (!existsSync(index)) {
      res.writeHead(pathname === '/' || pathname === '/index.html' ? 200 : 404, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      decoded = '/';
    }
    const file = resolve(base, `.${decoded}`);
    const inside = file === base || file.startsWith(base + sep);
    if (inside && decoded !== '/' && isFile(file)) {
      const hashed = decoded.startsWith('/assets/');
      sendFile(req, res, file, hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      return;
    }
    // A missing asset must not be answered with HTML (a browser would try to run it as script).
    if (decoded.startsWith('/assets/') || extname(decoded) !== '') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return;
    }
    sendFile(req, res, index, 'no-cache');
  };
}
