import { describe, expect, it } from 'vitest';

import { toDot } from './dot.js';
import type { GraphResource, ServiceFacts } from './graph.js';
import { buildGraph } from './graph.js';
import { mermaidIds, toMermaid } from './mermaid.js';
import { graphRenderers } from './render.js';

const resources: GraphResource[] = [
  { name: 'app', type: 'Drover::Artifact', revision: 'a1', dependsOn: [] },
  { name: 'web', type: 'Drover::Service', revision: 'c3', dependsOn: ['app'] },
  { name: 'route', type: 'Drover::Route', revision: 'd4', dependsOn: ['web'] },
];
const healthy = new Map<string, ServiceFacts>([
  ['web', { desired: 1, instances: [{ revision: 'c3', state: 'running', health: 'healthy' }] }],
]);

describe('toMermaid', () => {
  it('draws a small stack', () => {
    expect(toMermaid(buildGraph('hello', resources))).toBe(
      [
        'graph TD',
        '  app["app<br/>Drover::Artifact"]',
        '  web["web<br/>Drover::Service"]',
        '  route["route<br/>Drover::Route"]',
        '  app --> web',
        '  web --> route',
        '',
      ].join('\n'),
    );
  });

  it('colours services by health', () => {
    expect(toMermaid(buildGraph('hello', resources, healthy))).toContain(
      [
        '  web --> route',
        '  classDef healthy fill:#dcfce7,stroke:#15803d,color:#14532d',
        '  class web healthy',
        '',
      ].join('\n'),
    );
  });

  it('makes odd names into distinct bare ids and escapes their labels', () => {
    const odd: GraphResource[] = [
      { name: 'db.web', type: 'Drover::Service', revision: 'r', dependsOn: [] },
      { name: 'db_web', type: 'Drover::Service', revision: 'r', dependsOn: [] },
      { name: 'end', type: 'Drover::Volume', revision: 'r', dependsOn: ['db.web'] },
      { name: '9lives', type: 'say "hi" <b>#1</b> & more', revision: 'r', dependsOn: [] },
    ];
    expect(toMermaid(buildGraph('odd', odd))).toBe(
      [
        'graph TD',
        '  db_web["db.web<br/>Drover::Service"]',
        '  db_web_2["db_web<br/>Drover::Service"]',
        '  n_9lives["9lives<br/>say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt; #amp; more"]',
        '  n_end["end<br/>Drover::Volume"]',
        '  db_web --> n_end',
        '',
      ].join('\n'),
    );
  });

  it('never gives two names one id', () => {
    const names = ['a-b', 'a.b', 'a_b', 'a b', 'a_b_2', 'End', '_x'];
    const ids = mermaidIds(names);
    expect(new Set(ids.values()).size).toBe(names.length);
    for (const id of ids.values()) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
  });
});

describe('toDot', () => {
  it('draws a small stack', () => {
    expect(toDot(buildGraph('hello', resources, healthy))).toBe(
      [
        'digraph "hello" {',
        '  rankdir=TB;',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        '  "app" [label="app\\nDrover::Artifact"];',
        '  "web" [label="web\\nDrover::Service", fillcolor="#dcfce7", color="#15803d", fontcolor="#14532d"];',
        '  "route" [label="route\\nDrover::Route"];',
        '  "app" -> "web";',
        '  "web" -> "route";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('quotes and escapes odd names', () => {
    const odd: GraphResource[] = [
      { name: 'say "hi"', type: 'back\\slash', revision: 'r', dependsOn: [] },
      { name: 'two\nlines', type: 'T', revision: 'r', dependsOn: ['say "hi"'] },
    ];
    expect(toDot(buildGraph('a "b"', odd))).toBe(
      [
        'digraph "a \\"b\\"" {',
        '  rankdir=TB;',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
        '  "say \\"hi\\"" [label="say \\"hi\\"\\nback\\\\slash"];',
        '  "two\\nlines" [label="two\\nlines\\nT"];',
        '  "say \\"hi\\"" -> "two\\nlines";',
        '}',
        '',
      ].join('\n'),
    );
  });
});

describe('graphRenderers', () => {
  it('offers mermaid and dot', () => {
    expect(Object.keys(graphRenderers)).toEqual(['mermaid', 'dot']);
  });
});
