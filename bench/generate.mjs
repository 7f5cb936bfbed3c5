// Generates a stack of N resources with references between them, for benchmarks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Groups of ten: a Config, a Volume, four Services (artifact, config and
 * volume references, env from parameters and from another service's
 * attribute), three Routes and a ConfigTemplate; one shared Artifact.
 */
export function generateStack(dir, count) {
  mkdirSync(join(dir, 'app'), { recursive: true });
  writeFileSync(join(dir, 'app', 'server.js'), 'console.log("bench")\n');
  const lines = [
    'drover_template_version: 2026-11-21',
    `description: generated stack of ${count} resources`,
    'parameters:',
    '  version: { type: string, default: "1" }',
    '  replicas: { type: number, default: 2, constraints: [ { range: { min: 1, max: 10 } } ] }',
    '  token: { type: string, hidden: true, default: s3cret }',
    '  env: { type: string, default: prod, constraints: [ { allowed_values: [dev, prod] } ] }',
    'mappings:',
    '  sizes: { dev: { memory: 128Mi }, prod: { memory: 512Mi } }',
    'conditions:',
    '  is_prod: { equals: [ { get_param: env }, prod ] }',
    'resources:',
    '  build: { type: Drover::Artifact, properties: { context: ./app } }',
  ];
  let made = 1;
  for (let g = 0; made < count; g++) {
    const add = (text) => {
      if (made < count) {
        lines.push(text);
        made++;
      }
    };
    add(
      `  conf${g}: { type: Drover::Config, properties: { content: { str_replace: { template: "group=G version=V", params: { G: "${g}", V: { get_param: version } } } } } }`,
    );
    add(`  data${g}: { type: Drover::Volume, deletion_policy: retain }`);
    for (let s = 0; s < 4; s++) {
      const peer = s === 0 ? '' : `, PEER: { get_attr: [svc${g}_${s - 1}, name] }`;
      add(
        [
          `  svc${g}_${s}:`,
          '    type: Drover::Service',
          '    properties:',
          '      artifact: { get_resource: build }',
          '      command: [node, server.js]',
          '      replicas: { get_param: replicas }',
          `      env: { VERSION: { get_param: version }, TOKEN: { get_param: token }, SIZE: { find_in_map: [sizes, { get_param: env }, memory] }${peer} }`,
          `      configs: [ { config: { get_resource: conf${g} }, path: app.conf } ]`,
          `      volumes: [ { volume: { get_resource: data${g} }, path: data } ]`,
          '      health: { http: /healthz, interval: 1s }',
          '      deploy: { strategy: blue-green }',
        ].join('\n'),
      );
    }
    for (let r = 0; r < 3; r++) {
      add(
        `  route${g}_${r}: { type: Drover::Route, condition: is_prod, properties: { host: g${g}r${r}.localhost, service: { get_resource: svc${g}_${r} } } }`,
      );
    }
    add(
      `  upstreams${g}: { type: Drover::ConfigTemplate, properties: { template: "{{#each endpoints}}{{address}}{{/each}}", destination: /tmp/g${g}.conf, service: { get_resource: svc${g}_0 } } }`,
    );
  }
  lines.push('outputs:', '  first: { value: { get_attr: [route0_0, url] } }');
  const file = join(dir, 'stack.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
