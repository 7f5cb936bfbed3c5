import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { parseExposition, total } from './testing/exposition.js';

/** The strict reader the metrics tests rely on: it must refuse what Prometheus refuses. */
describe('parseExposition', () => {
  it("reads prom-client's own output: families, labels with escapes, histograms", async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'x_total', help: 'x', labelNames: ['a'], registers: [registry] });
    c.inc({ a: 'q"u\\o\nte' }, 2);
    const h = new Histogram({
      name: 'h_seconds',
      help: 'h',
      buckets: [1, 2],
      registers: [registry],
    });
    h.observe(0.5);
    h.observe(5);
    const families = parseExposition(await registry.metrics());
    expect(families.get('x_total')?.samples).toEqual([
      { name: 'x_total', labels: { a: 'q"u\\o\nte' }, value: 2 },
    ]);
    expect(total(families, 'h_seconds', { le: '+Inf' }, 'h_seconds_bucket')).toBe(2);
    expect(total(families, 'h_seconds', {}, 'h_seconds_count')).toBe(2);
  });

  it.each([
    ['a second TYPE', '# TYPE a counter\n# TYPE a counter\na 1\n', /second TYPE/],
    ['a second HELP', '# HELP a x\n# TYPE a counter\n# HELP a y\na 1\n', /second HELP/],
    ['a sample without TYPE', 'a 1\n', /no TYPE/],
    ['a family split up', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n', /again/],
    ['a repeated sample', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', /repeated/],
    ['a bad value', '# TYPE a gauge\na one\n', /bad value/],
    ['a bad label', '# TYPE a gauge\na{1x="1"} 1\n', /bad label name/],
    ['a label twice', '# TYPE a gauge\na{x="1",x="2"} 1\n', /twice/],
    ['no final newline', '# TYPE a gauge\na 1', /final newline/],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /cumulative/,
    ],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /\+Inf/],
    [
      'a count that is not the +Inf bucket',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',
      /_count/,
    ],
  ])('refuses %s', (_, text, error) => {
    expect(() => parseExposition(text)).toThrow(error);
  });
});
