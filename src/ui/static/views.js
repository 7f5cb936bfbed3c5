// What each part of the page shows, as pure functions from API answers to
// DOM nodes. Only public facts are shown: the API never returns secrets,
// and the page never renders raw specs, environments or event data.

import { badge, h, shortId, table, when } from './dom.js';

/**
 * @typedef {import('../../engine/types.js').StackStatus} StackStatus
 * @typedef {import('../../engine/types.js').InstanceInfo} InstanceInfo
 * @typedef {import('../../engine/types.js').StackRevisionInfo} StackRevisionInfo
 * @typedef {import('../../engine/types.js').EngineEvent} EngineEvent
 * @typedef {import('../../graph/index.js').StackGraph} StackGraph
 * @typedef {import('../../reconcile/index.js').DriftReport} DriftReport
 * @typedef {import('../../reconcile/index.js').DriftChange} DriftChange
 * @typedef {import('../../registry/index.js').Endpoint} Endpoint
 * @typedef {{ revision: string, percent: number }} Share
 */

/** @param {string} text */
const empty = (text) => h('p', { class: 'empty' }, text);

/** @param {StackStatus} stack */
function serviceCounts(stack) {
  const services = stack.resources.filter((r) => r.replicas !== undefined);
  const healthy = services.filter(
    (r) => r.deployment === undefined && (r.replicas?.healthy ?? 0) >= (r.replicas?.desired ?? 0),
  ).length;
  const deploying = services.filter((r) => r.deployment !== undefined).length;
  return { services: services.length, healthy, deploying };
}

/**
 * Every stack as a card linking to its page.
 * @param {StackStatus[]} stacks
 */
export function stackCards(stacks) {
  if (stacks.length === 0) return empty('No stacks yet. Apply one with drover apply STACK.yaml.');
  return h(
    'ul',
    { class: 'cards' },
    ...stacks.map((s) => {
      const c = serviceCounts(s);
      const state =
        c.deploying > 0 ? 'deploying' : c.healthy === c.services ? 'healthy' : 'unhealthy';
      return h(
        'li',
        { class: 'card' },
        h('a', { href: `#/stacks/${encodeURIComponent(s.stack)}`, class: 'card-title' }, s.stack),
        h(
          'p',
          {},
          badge(state),
          ` ${c.healthy}/${c.services} services healthy · ${s.resources.length} resources`,
        ),
        h(
          'p',
          { class: 'muted' },
          `revision ${s.stackRevision ?? '–'} · applied ${when(s.appliedAt)}`,
        ),
      );
    }),
  );
}

/**
 * Traffic shares per revision from the registry's endpoint weights.
 * @param {Endpoint[]} endpoints
 * @param {string} service
 * @returns {Share[]}
 */
export function endpointShares(endpoints, service) {
  const mine = endpoints.filter((e) => e.service === service && e.draining !== true);
  const total = mine.reduce((sum, e) => sum + e.weight, 0);
  if (total <= 0) return [];
  /** @type {Map<string, number>} */
  const byRevision = new Map();
  for (const e of mine) byRevision.set(e.revision, (byRevision.get(e.revision) ?? 0) + e.weight);
  return [...byRevision].map(([revision, w]) => ({
    revision,
    percent: Math.round((w / total) * 100),
  }));
}

/**
 * Deployments under way: strategy, phase and, for each, the traffic share of each revision.
 * @param {StackStatus} stack
 * @param {(service: string, to: string, from: string) => Share[]} shares
 */
export function deployments(stack, shares) {
  const moving = stack.resources.filter((r) => r.deployment !== undefined);
  if (moving.length === 0) return empty('No deployment in progress.');
  return h(
    'ul',
    { class: 'deployments' },
    ...moving.map((r) => {
      const d = /** @type {NonNullable<typeof r.deployment>} */ (r.deployment);
      const split = shares(r.name, d.to, r.revision).sort((a, b) =>
        a.revision === d.to ? -1 : b.revision === d.to ? 1 : 0,
      );
      return h(
        'li',
        { class: 'deployment', 'data-service': r.name },
        h(
          'p',
          {},
          h('strong', {}, r.name),
          ' ',
          badge('deploying', d.strategy),
          ` ${d.phase} → `,
          h('code', {}, shortId(d.to)),
        ),
        split.length === 0
          ? null
          : h(
              'div',
              { class: 'weights', role: 'list', 'aria-label': `Traffic of ${r.name} by revision` },
              ...split.map((s) =>
                h(
                  'div',
                  {
                    class: `weight ${s.revision === d.to ? 'new' : 'old'}`,
                    role: 'listitem',
                    style: { 'flex-grow': String(Math.max(s.percent, 1)) },
                    'data-revision': s.revision,
                    'data-weight': s.percent,
                  },
                  h('code', {}, shortId(s.revision)),
                  ` ${s.percent}%`,
                ),
              ),
            ),
      );
    }),
  );
}

/**
 * Services: revision, replicas and their health (as the graph judged it).
 * @param {StackStatus} stack
 * @param {StackGraph | undefined} graph
 */
export function services(stack, graph) {
  const rows = stack.resources
    .filter((r) => r.replicas !== undefined)
    .map((r) => {
      const health = graph?.nodes.find((n) => n.name === r.name)?.health?.state ?? 'unknown';
      const replicas = r.replicas ?? { desired: 0, running: 0, healthy: 0 };
      return [
        h('strong', {}, r.name),
        h('code', { title: r.revision }, shortId(r.revision)),
        String(replicas.desired),
        String(replicas.running),
        String(replicas.healthy),
        badge(health),
      ];
    });
  if (rows.length === 0) return empty('This stack runs no services.');
  return table(
    'Services',
    ['Service', 'Revision', 'Desired', 'Running', 'Healthy', 'Status'],
    rows,
    {
      class: 'services',
    },
  );
}

/**
 * Instances, grouped by service and revision.
 * @param {InstanceInfo[]} list
 */
export function instances(list) {
  if (list.length === 0) return empty('No instances.');
  const sorted = [...list].sort(
    (a, b) =>
      a.service.localeCompare(b.service) ||
      a.revision.localeCompare(b.revision) ||
      a.id.localeCompare(b.id),
  );
  return table(
    'Instances',
    ['Instance', 'Service', 'Revision', 'State', 'Health', 'Port', 'Serving'],
    sorted.map((i) => [
      h('code', {}, i.id),
      i.service,
      h('code', { title: i.revision }, shortId(i.revision)),
      badge(i.state),
      badge(i.health),
      String(i.port),
      i.serving ? badge('serving', 'yes') : h('span', { class: 'muted' }, 'no'),
    ]),
    { class: 'instances' },
  );
}

/**
 * One drift change as diff lines: `+` added, `-` removed, `~` changed.
 * @param {DriftChange} c
 * @returns {[string, string][]}
 */
export function changeLines(c) {
  if (c.field === 'file' || c.field === 'env' || c.field === 'label') {
    const what = c.field === 'file' ? c.path : c.name;
    const sign = c.kind === 'added' ? '+' : c.kind === 'changed' ? '~' : '-';
    return [[sign, `${c.field} ${what} ${c.kind}`]];
  }
  return [
    ['-', `${c.field}: ${c.before}`],
    ['+', `${c.field}: ${c.after}`],
  ];
}

/** @param {[string, string][]} lines */
const diff = (lines) =>
  h(
    'pre',
    { class: 'diff' },
    ...lines.map(([sign, text]) =>
      h(
        'span',
        { class: sign === '+' ? 'add' : sign === '-' ? 'del' : 'chg' },
        `${sign} ${text}\n`,
      ),
    ),
  );

/**
 * Findings of the last drift scan, each with its changes.
 * @param {DriftReport} report
 */
export function drift(report) {
  const scanned = `${report.scanned} instance${report.scanned === 1 ? '' : 's'} scanned at ${when(report.scannedAt)}`;
  if (report.instances.length === 0 && report.rendered.length === 0)
    return h('p', { class: 'empty' }, badge('healthy', 'no drift'), ` ${scanned}.`);
  return h(
    'div',
    {},
    h('p', { class: 'muted' }, scanned),
    h(
      'ul',
      { class: 'findings' },
      ...report.instances.map((f) =>
        h(
          'li',
          {},
          h(
            'p',
            {},
            badge('unhealthy', 'drift'),
            ' ',
            h('strong', {}, f.service),
            ' ',
            h('code', {}, f.instance),
            ` (${f.runtime}, revision `,
            h('code', {}, shortId(f.revision)),
            ')',
          ),
          diff(f.changes.flatMap(changeLines)),
        ),
      ),
      ...report.rendered.map((r) =>
        h(
          'li',
          {},
          h(
            'p',
            {},
            badge('unhealthy', 'drift'),
            ' ',
            h('strong', {}, r.resource),
            ' rendered file',
          ),
          diff([[r.kind === 'deleted' ? '-' : '~', `file ${r.path} ${r.kind}`]]),
        ),
      ),
    ),
  );
}

/**
 * Stack revisions, newest first; deployers get a rollback button on earlier ones.
 * @param {StackRevisionInfo[]} list
 * @param {((revision: StackRevisionInfo) => void) | undefined} rollback
 */
export function history(list, rollback) {
  if (list.length === 0) return empty('No revisions recorded.');
  const rows = list.map((r, i) => [
    h('strong', {}, String(r.number)),
    r.kind,
    when(r.createdAt),
    r.createdBy,
    h(
      'span',
      { class: 'resources' },
      ...Object.entries(r.resources).flatMap(([name, id]) => [
        h('span', { class: 'chip' }, `${name} `, h('code', { title: id }, id.slice(0, 7))),
        ' ',
      ]),
    ),
    i === 0
      ? badge('current')
      : rollback === undefined
        ? ''
        : h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              'data-rollback': r.number,
              'aria-label': `Roll back to stack revision ${r.number}`,
              on: { click: () => rollback(r) },
            },
            'Roll back to this revision',
          ),
  ]);
  return table(
    'Stack revisions, newest first',
    ['#', 'Kind', 'When', 'By', 'Resources', ''],
    rows,
    {
      class: 'history',
    },
  );
}

/**
 * The event stream, newest first.
 * @param {EngineEvent[]} list
 */
export function events(list) {
  if (list.length === 0) return empty('No events yet.');
  return h(
    'ol',
    { class: 'events', reversed: true },
    ...list.map((e) =>
      h(
        'li',
        { 'data-seq': e.seq },
        h('time', { datetime: e.at }, when(e.at)),
        ' ',
        badge(eventTone(e), e.type),
        ' ',
        e.resource
          ? h('strong', {}, `${e.stack ?? ''}/${e.resource} `)
          : e.stack
            ? h('strong', {}, `${e.stack} `)
            : null,
        e.message,
        e.who ? h('span', { class: 'muted' }, ` · ${e.who}`) : null,
      ),
    ),
  );
}

/** @param {EngineEvent} e */
function eventTone(e) {
  if (/failed|unhealthy|exited|orphan|drift/.test(e.type) || e.phase === 'failed')
    return 'unhealthy';
  if (/converged|succeeded|ready|healed/.test(e.type)) return 'healthy';
  if (/deploy|rollback|progress/.test(e.type)) return 'deploying';
  return 'neutral';
}
