import fc from 'fast-check';
import { dump as stringify } from 'js-yaml';

/**
 * Valid stacks by construction: every reference points at an earlier
 * resource of the right type, conditions only sit on resources nobody
 * refers to, hidden parameters flow into env and secrets.
 */
export const validStack = fc
  .record({
    replicas: fc.nat(5),
    version: fc.stringMatching(/^[0-9]\.[0-9]$/),
    secret: fc.stringMatching(/^[a-z0-9]{4,12}$/),
    services: fc.array(
      fc.record({
        command: fc.constantFrom(['node', 'server.js'], ['node', 'main.js', '--fast']),
        env: fc.dictionary(fc.constantFrom('A', 'B', 'LOG'), fc.stringMatching(/^[a-z0-9]{0,5}$/), {
          maxKeys: 3,
        }),
        useSecret: fc.boolean(),
        useConfig: fc.boolean(),
        strategy: fc.constantFrom('rolling', 'blue-green', 'canary'),
        route: fc.option(fc.constantFrom('a.localhost', 'b.localhost', '*.c.localhost')),
        routeOnlyInProd: fc.boolean(),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    volume: fc.boolean(),
    env: fc.constantFrom('dev', 'prod'),
  })
  .map((s) => {
    const resources: Record<string, unknown> = {
      build: { type: 'Drover::Artifact', properties: { context: './app' } },
      conf: {
        type: 'Drover::Config',
        properties: {
          content: { str_replace: { template: 'v=V', params: { V: { get_param: 'version' } } } },
        },
      },
      key: { type: 'Drover::Secret', properties: { content: { get_param: 'secret' } } },
    };
    if (s.volume)
      resources['data'] = {
        type: 'Drover::Volume',
        deletion_policy: 'retain',
        condition: 'is_prod',
      };
    s.services.forEach((svc, i) => {
      resources[`web${i}`] = {
        type: 'Drover::Service',
        properties: {
          artifact: { get_resource: 'build' },
          command: svc.command,
          replicas: { get_param: 'replicas' },
          env: {
            ...svc.env,
            VERSION: { get_param: 'version' },
            ...(svc.useSecret ? { TOKEN: { get_param: 'secret' } } : {}),
          },
          ...(svc.useConfig
            ? { configs: [{ config: { get_resource: 'conf' }, path: 'app.conf' }] }
            : {}),
          ...(svc.useSecret ? { secrets: [{ secret: { get_resource: 'key' }, path: 'key' }] } : {}),
          deploy: { strategy: svc.strategy },
          health: { http: '/healthz' },
        },
      };
      if (svc.route !== null) {
        resources[`route${i}`] = {
          type: 'Drover::Route',
          ...(svc.routeOnlyInProd ? { condition: 'is_prod' } : {}),
          properties: { host: svc.route, path: `/${i}`, service: { get_resource: `web${i}` } },
        };
      }
    });
    const template = {
      drover_template_version: '2026-11-21',
      parameters: {
        replicas: { type: 'number', default: s.replicas },
        version: { type: 'string', default: s.version },
        secret: { type: 'string', hidden: true, default: s.secret },
        env: { type: 'string', default: s.env, constraints: [{ allowed_values: ['dev', 'prod'] }] },
      },
      conditions: { is_prod: { equals: [{ get_param: 'env' }, 'prod'] } },
      resources,
      outputs: { first: { value: { get_attr: ['web0', 'name'] } } },
    };
    return stringify(template);
  });
