import type { StackGraph } from './graph.js';
import { healthColors } from './palette.js';

/** A DOT quoted string: backslashes and quotes escaped, line breaks as DOT's `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/** Graphviz `digraph`: quoted ids (any name is valid), `name\ntype` labels, services filled by health. */
export function toDot(graph: StackGraph): string {
  const lines = [
    `digraph ${dotString(graph.stack)} {`,
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica"];',
  ];
  for (const n of graph.nodes) {
    const attributes = [`label=${dotString(`${n.name}\n${n.type}`)}`];
    if (n.health) {
      const c = healthColors[n.health.state];
      attributes.push(
        `fillcolor=${dotString(c.fill)}`,
        `color=${dotString(c.stroke)}`,
        `fontcolor=${dotString(c.text)}`,
      );
    }
    lines.push(`  ${dotString(n.name)} [${attributes.join(', ')}];`);
  }
  for (const e of graph.edges) lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
