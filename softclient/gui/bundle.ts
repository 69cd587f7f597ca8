/**
 * The page's bundle: `softclient/gui/web/` (Preact + TypeScript) built by esbuild into `softclient/gui/dist/`
 * (index.html, app.js, app.css). Nothing is fetched at run time: the bundle holds Preact itself.
 *
 * `ensureBundle()` builds when the bundle is missing or older than any source file (so `sipmeet gui` after a
 * `git pull` serves the new page); `npm run build:gui` builds unconditionally.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GUI_DIR = fileURLToPath(new URL('.', import.meta.url));
export const WEB_DIR = join(GUI_DIR, 'web');
export const DIST_DIR = join(GUI_DIR, 'dist');
/** Files the bundle consists of (the HTTP server serves exactly these). */
export const BUNDLE_FILES = ['index.html', 'app.js', 'app.css'] as const;

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function oldestOutput(): number | undefined {
  let oldest = Infinity;
  for (const f of BUNDLE_FILES) {
    try {
      oldest = Math.min(oldest, statSync(join(DIST_DIR, f)).mtimeMs);
    } catch {
      return undefined;
    }
  }
  return oldest;
}

/** Is the bundle missing or older than its sources (web/ and the shared protocol types)? */
export function bundleIsStale(): boolean {
  const built = oldestOutput();
  if (built === undefined) return true;
  const sources = Math.max(newestSource(WEB_DIR), statSync(join(GUI_DIR, 'protocol.ts')).mtimeMs);
  return sources > built;
}

/** Build the bundle now. */
export async function buildBundle(): Promise<void> {
  // esbuild is loaded only when a build is needed (it is a devDependency, and tsx's own dependency).
  const { build } = await import('esbuild');
  // Built aside and moved in file by file (rename is atomic): several GUI processes starting at once may all
  // build, and a page being served never reads a half-written file.
  const tmp = mkdtempSync(join(GUI_DIR, '.dist-'));
  try {
    await buildInto(build, tmp);
    mkdirSync(DIST_DIR, { recursive: true });
    for (const f of readdirSync(tmp)) renameSync(join(tmp, f), join(DIST_DIR, f));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function buildInto(build: typeof import('esbuild').build, outdir: string): Promise<void> {
  await build({
    entryPoints: { app: join(WEB_DIR, 'main.tsx') },
    outdir,
    bundle: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'silent',
  });
  copyFileSync(join(WEB_DIR, 'index.html'), join(outdir, 'index.html'));
}

/** Build when stale; resolves with whether a build ran. */
export async function ensureBundle(): Promise<boolean> {
  if (!bundleIsStale()) return false;
  await buildBundle();
  return true;
}

// `node --import tsx softclient/gui/bundle.ts` (npm run build:gui) builds unconditionally.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildBundle();
  process.stdout.write(`GUI bundle written to ${DIST_DIR}\n`);
}
