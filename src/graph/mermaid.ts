import type { StackGraph } from './graph.js';
import { healthColors } from './palette.js';

/** Words Mermaid's flowchart grammar reads as keywords when they stand as a node id. */
const RESERVED = new Set([
  'end',
  'graph',
  'flowchart',
  'subgraph',
  'class',
  'classdef',
  'click',
  'style',
  'linkstyle',
  'direction',
  'default',
]);

/**
 * Mermaid ids are bare words: every other character becomes `_`, a keyword
 * or a leading digit gets a prefix, and names that collide after that get a
 * numbered suffix, so every resource keeps its own node.
 */
export function mermaidIds(names: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    let base = name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z]/.test(base) || RESERVED.has(base.toLowerCase())) base = `n_${base}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
    taken.add(id);
    ids.set(name, id);
  }
  return ids;
}

const ENTITIES: Record<string, string> = {
  '#': '#35;',
  '"': '#quot;',
  '<': '#lt;',
  '>': '#gt;',
  '&': '#amp;',
};

/** Text inside a quoted Mermaid label: its own entity codes, one line. */
function label(text: string): string {
  return text.replace(/[#"<>&]/g, (c) => ENTITIES[c] ?? c).replace(/\s+/g, ' ');
}

/** `graph TD`: one box per resource (`name<br/>type`), arrows in apply order, services coloured by health. */
export function toMermaid(graph: StackGraph): string {
  const ids = mermaidIds(graph.nodes.map((n) => n.name));
  const id = (name: string): string => ids.get(name) ?? name;
  const lines = ['graph TD'];
  for (const n of graph.nodes)
    lines.push(`  ${id(n.name)}["${label(n.name)}<br/>${label(n.type)}"]`);
  for (const e of graph.edges) lines.push(`  ${id(e.from)} --> ${id(e.to)}`);
  const states = [...new Set(graph.nodes.flatMap((n) => (n.health ? [n.health.state] : [])))];
  for (const state of states) {
    const c = healthColors[state];
    lines.push(`  classDef ${state} fill:${c.fill},stroke:${c.stroke},color:${c.text}`);
  }
  for (const state of states) {
    const members = graph.nodes.filter((n) => n.health?.state === state).map((n) => id(n.name));
    lines.push(`  class ${members.join(',')} ${state}`);
  }
  return `${lines.join('\n')}\n`;
}
