import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { dashboard } from './serve.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-ui-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('dashboard', () => {
  it('ships a page, its script modules, a style sheet and an icon', () => {
    expect(dashboard().files).toEqual([
      'actions.js',
      'api.js',
      'app.css',
      'dom.js',
      'favicon.svg',
      'graph.js',
      'index.html',
      'live.js',
      'main.js',
      'refresh.js',
      'state.js',
      'views.js',
    ]);
  });

  it('serves the files it found at start, by exact name and with their types', async () => {
    const dir = folder({
      'index.html': '<p>hi</p>',
      'a.js': 'x',
      'notes.txt': 'no',
      'b.json': '{}',
    });
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'c.js'), 'y');
    const ui = dashboard(dir);
    expect(ui.files).toEqual(['a.js', 'index.html']);
    const index = ui.respond('/ui/');
    expect(index?.status).toBe(200);
    expect(await index?.text()).toBe('<p>hi</p>');
    expect(ui.respond('/ui/a.js')?.headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect(ui.respond('/ui/a.js')?.headers.get('x-content-type-options')).toBe('nosniff');
    for (const path of ['/ui/notes.txt', '/ui/sub/c.js', '/ui/../a.js', '/ui/%2e%2e/x', '/a.js'])
      expect(ui.respond(path), path).toBeUndefined();
  });

  it('redirects /ui to /ui/', () => {
    const response = dashboard(folder({})).respond('/ui');
    expect(response?.status).toBe(308);
    expect(response?.headers.get('location')).toBe('/ui/');
  });

  it('says so when a build lacks the files, and the API goes on', async () => {
    const ui = dashboard(join(tmpdir(), 'drover-ui-missing-nothing-here'));
    const response = ui.respond('/ui/');
    expect(response?.status).toBe(404);
    expect(await response?.text()).toContain('npm run build');
  });
});
