import { describe, expect, it } from 'vitest';

import { checkTemplate, compileTemplate } from './compile.js';
import { renderContext } from './context.js';
import { TemplateRenderError, TemplateSyntaxError } from './errors.js';
import { endpoint } from './testing/harness.js';

const context = renderContext(
  {
    revision: 3,
    endpoints: [endpoint('b', { port: 8002 }), endpoint('a', { port: 8001, color: 'green' })],
    routes: [],
  },
  's',
  'web',
);

const upstream = `upstream {{service}} {
{{#each endpoints}}
  server {{address}}:{{port}} weight={{weight}};
{{else}}
  server 127.0.0.1:1 down;
{{/each}}
}
`;

describe('compileTemplate', () => {
  it('renders endpoints in order, with standalone block lines removed', () => {
    expect(compileTemplate(upstream)(context)).toBe(
      'upstream web {\n  server 127.0.0.1:8001 weight=1;\n  server 127.0.0.1:8002 weight=1;\n}\n',
    );
  });

  it('renders the fallback when no endpoint serves', () => {
    const empty = renderContext({ revision: 1, endpoints: [], routes: [] }, 's', 'web');
    expect(compileTemplate(upstream)(empty)).toContain('server 127.0.0.1:1 down;');
  });

  it('renders the same text every time for the same picture', () => {
    const template = compileTemplate('{{json this}}');
    expect(template(context)).toBe(compileTemplate('{{json this}}')(context));
  });

  it('does not HTML-escape and renders missing values as nothing', () => {
    const template = compileTemplate(
      'a && b <{{service}}> [{{nothing.here}}] {{endpoints.0.color}}',
    );
    expect(template(context)).toBe('a && b <web> [] green');
  });

  it('has eq, join and json', () => {
    const text = [
      '{{#each endpoints}}{{#if (eq color "green")}}{{instance}} is green{{/if}}{{/each}}',
      '{{join (lookup this "missing")}}|{{join list}}|{{join list " "}}',
      '{{json service}} {{json endpoints.0.port}} {{json nothing}}',
    ].join('\n');
    const rendered = compileTemplate(text)({ ...context, list: ['x', 2] } as typeof context);
    expect(rendered.split('\n')).toEqual(['a is green', '|x, 2|x 2', '"web" 8001 null']);
  });

  it('fails at render time with TemplateRenderError when a helper gets a wrong value', () => {
    const template = compileTemplate('{{join service}}');
    expect(() => template(context)).toThrow(TemplateRenderError);
    expect(() => template(context)).toThrow(/join expects a list, got string/);
  });

  it('throws TemplateSyntaxError with the position', () => {
    let caught: unknown;
    try {
      compileTemplate('ok\n  {{#each endpoints}}\n{{/if}}');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TemplateSyntaxError);
    expect(caught).toMatchObject({ code: 'TEMPLATE_SYNTAX', line: 2, column: 6 });
  });
});

describe('checkTemplate', () => {
  it.each([
    ['ok {{service}} {{#each endpoints}}{{port}}{{/each}}', undefined],
    ['line one\nline {{two', /^2:8: parse error: expecting 'ID'/],
    ['{{{service}}', /^1:11: parse error: expecting 'CLOSE_UNESCAPED'/],
    ['a {{!-- never closed', /^1:3: unrecognized text$/],
    ['\n\n{{#each endpoints}}{{/with}}', /^3:4: each doesn't match with$/],
    ['x\n  {{upper service}}', /^2:5: 'upper' is not a helper \(helpers: each, eq, if/],
    ['{{service.name "x"}}', /^1:3: 'service.name' is not a helper/],
    ['{{log service}}', /^1:3: 'log' is not a helper/],
    ['{{#each}}{{/each}}', /^1:4: each takes 1 argument, got 0$/],
    ['{{join a "," "x"}}', /^1:3: join takes 1 or 2 arguments, got 3$/],
    ['{{#if (eq a)}}{{/if}}', /^1:8: eq takes 2 arguments, got 1$/],
    ['{{#each endpoints}}{{lookup ../services}}{{/each}}', /^1:22: lookup takes 2 arguments/],
    ['{{> upstreams}}', /^1:1: partials \({{> name}}\) are not supported$/],
  ])('%j → %s', (text, expected) => {
    const problem = checkTemplate(text);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});
