// A stack's resources as an SVG drawing: one layer per dependency depth
// (what depends on nothing at the top), one box per resource with its type,
// short revision and, for services, live health; edges as curves pointing
// the way an apply goes (from what is needed to what needs it).

import { svg } from './dom.js';

/**
 * @typedef {import('../../graph/index.js').StackGraph} StackGraph
 * @typedef {import('../../graph/index.js').GraphNode} GraphNode
 * @typedef {{ node: GraphNode, x: number, y: number }} Placed
 */

const W = 184;
const H = 68;
const GAP_X = 32;
const GAP_Y = 52;
const PAD = 12;

/**
 * Positions: layers by depth; within a layer, nodes sorted by where what
 * they depend on sits (barycentres), which keeps most edges from crossing.
 * @param {StackGraph} graph
 * @returns {{ placed: Map<string, Placed>, width: number, height: number }}
 */
export function layout(graph) {
  /** @type {GraphNode[][]} */
  const layers = [];
  for (const node of graph.nodes) (layers[node.depth] ??= []).push(node);
  const dense = layers.filter((layer) => layer !== undefined);
  /** @type {Map<string, number>} */
  const slot = new Map();
  for (const [d, layer] of dense.entries()) {
    if (d > 0) {
      /** @param {GraphNode} n */
      const centre = (n) => {
        const from = graph.edges.filter((e) => e.to === n.name).map((e) => slot.get(e.from) ?? 0);
        return from.length === 0 ? Infinity : from.reduce((a, b) => a + b, 0) / from.length;
      };
      const keys = new Map(layer.map((n) => [n.name, centre(n)]));
      layer.sort((a, b) => (keys.get(a.name) ?? 0) - (keys.get(b.name) ?? 0));
    }
    // Slots are centred fractions, so that layers of different widths line up.
    layer.forEach((n, i) => slot.set(n.name, i - (layer.length - 1) / 2));
  }
  const widest = Math.max(1, ...dense.map((l) => l.length));
  const width = PAD * 2 + widest * W + (widest - 1) * GAP_X;
  const height = PAD * 2 + dense.length * H + Math.max(0, dense.length - 1) * GAP_Y;
  /** @type {Map<string, Placed>} */
  const placed = new Map();
  for (const [d, layer] of dense.entries()) {
    const row = layer.length * W + (layer.length - 1) * GAP_X;
    const left = (width - row) / 2;
    layer.forEach((node, i) =>
      placed.set(node.name, { node, x: left + i * (W + GAP_X), y: PAD + d * (H + GAP_Y) }),
    );
  }
  return { placed, width, height };
}

/** @param {string} text @param {number} max */
const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** @param {GraphNode} node */
function statusText(node) {
  const health = node.health;
  if (health === undefined) return '';
  if (health.state === 'deploying') return `deploying · ${health.deployment?.phase ?? ''}`;
  return `${health.state} · ${health.healthy}/${health.desired} healthy`;
}

/**
 * @param {Placed} p
 */
function box(p) {
  const { node } = p;
  const state = node.health?.state ?? 'static';
  const type = node.type.replace(/^Drover::/, '');
  const status = statusText(node);
  return svg(
    'g',
    {
      class: `node ${state}`,
      transform: `translate(${p.x} ${p.y})`,
      'data-node': node.name,
      'data-health': node.health?.state,
    },
    svg(
      'title',
      {},
      `${node.name} (${node.type}) revision ${node.revision.slice(0, 12)}${status ? `: ${status}` : ''}`,
    ),
    svg('rect', { class: 'box', width: W, height: H, rx: 8 }),
    svg('rect', { class: 'stripe', width: 5, height: H - 16, x: 0, y: 8, rx: 2 }),
    svg('text', { class: 'name', x: 16, y: 23 }, clip(node.name, 20)),
    svg(
      'text',
      { class: 'type', x: 16, y: 41 },
      `${clip(type, 14)} · ${node.revision.slice(0, 7)}`,
    ),
    status ? svg('text', { class: 'status', x: 16, y: 58 }, clip(status, 26)) : null,
  );
}

/**
 * The drawing, sized to its content (it scales down to the width it gets).
 * @param {StackGraph} graph
 */
export function graphSvg(graph) {
  const { placed, width, height } = layout(graph);
  const edges = graph.edges.flatMap((e) => {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (a === undefined || b === undefined) return [];
    const x1 = a.x + W / 2;
    const y1 = a.y + H;
    const x2 = b.x + W / 2;
    const y2 = b.y - 4;
    const bend = Math.max(24, (y2 - y1) / 2);
    return [
      svg('path', {
        class: 'edge',
        d: `M ${x1} ${y1} C ${x1} ${y1 + bend}, ${x2} ${y2 - bend}, ${x2} ${y2}`,
        'marker-end': 'url(#arrow)',
        'data-from': e.from,
        'data-to': e.to,
      }),
    ];
  });
  const count = `${graph.nodes.length} resources, ${graph.edges.length} dependencies`;
  return svg(
    'svg',
    {
      class: 'graph',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': `Resources of stack ${graph.stack} and their dependencies: ${count}`,
    },
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        svg('path', { class: 'arrowhead', d: 'M 0 0 L 10 5 L 0 10 z' }),
      ),
    ),
    svg('g', { class: 'edges' }, ...edges),
    svg('g', { class: 'nodes' }, ...[...placed.values()].map(box)),
  );
}
