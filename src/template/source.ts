import type { Event, ScalarEvent } from 'js-yaml';
import {
  boolCoreTag,
  EVENT_ID,
  floatCoreTag,
  getScalarValue,
  intCoreTag,
  NOT_RESOLVED,
  nullCoreTag,
  parseEvents,
  SCALAR_STYLE,
  YAMLException,
} from 'js-yaml';

import type { Diagnostic, Loc } from './errors.js';
import { Diagnostics } from './errors.js';

/**
 * A template as a tree of located nodes: every value and every key remembers
 * the line and column it came from, so that any later check can point at it.
 * Values reached through a YAML alias are the anchored nodes themselves.
 */
export type Node = MapNode | SeqNode | ScalarNode;
export type Scalar = string | number | boolean | null;

export interface MapEntry {
  readonly key: string;
  readonly keyLoc: Loc;
  readonly value: Node;
}

export interface MapNode {
  readonly kind: 'map';
  readonly loc: Loc;
  readonly entries: readonly MapEntry[];
}

export interface SeqNode {
  readonly kind: 'seq';
  readonly loc: Loc;
  readonly items: readonly Node[];
}

export interface ScalarNode {
  readonly kind: 'scalar';
  readonly loc: Loc;
  readonly value: Scalar;
}

/** Far above any real template (a 10,000-resource stack is about 3 MB). */
export const MAX_TEMPLATE_BYTES = 8 * 1024 * 1024;
/** Values after alias expansion; a billion-laughs file hits this long before memory does. */
export const MAX_NODES = 2_000_000;
export const MAX_DEPTH = 100;

export interface ParsedSource {
  readonly root?: Node;
  readonly diagnostics: Diagnostic[];
}

/**
 * Parses YAML (and so JSON) text into located nodes; never throws on bad input.
 *
 * js-yaml's event parser gives every node's source offsets at a tenth of the
 * cost of a full YAML document model, which is what lets a 10,000-resource
 * stack be checked in well under a second.
 */
export function parseSource(text: string, file: string): ParsedSource {
  const diagnostics = new Diagnostics();
  const lines = new LineIndex(text, file);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TEMPLATE_BYTES) {
    diagnostics.add(
      'TOO_LARGE',
      `the file is ${bytes} bytes; templates may be at most ${MAX_TEMPLATE_BYTES} bytes`,
      lines.at(0),
    );
    return { diagnostics: diagnostics.list };
  }
  let events: Event[];
  try {
    events = parseEvents(text, { filename: file, maxDepth: MAX_DEPTH });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const offset = error.mark?.position ?? 0;
    const deep = /maxDepth/.test(error.reason);
    diagnostics.add(
      deep ? 'TOO_DEEP' : 'YAML_SYNTAX',
      deep ? `values may be nested at most ${MAX_DEPTH} levels deep` : error.reason,
      lines.at(Math.min(offset, text.length)),
    );
    return { diagnostics: diagnostics.list };
  }
  const builder = new TreeBuilder(text, lines, diagnostics);
  const root = builder.build(events);
  if (diagnostics.size > 0) return { diagnostics: diagnostics.list };
  if (root === undefined) {
    diagnostics.add('NOT_A_MAPPING', 'the template is empty', lines.at(0));
    return { diagnostics: diagnostics.list };
  }
  if (builder.aliased && expandedSize(root, new Map()) > MAX_NODES) {
    diagnostics.add(
      'ALIAS_BOMB',
      `aliases expand this document to more than ${MAX_NODES} values`,
      worstAlias(root),
    );
    return { diagnostics: diagnostics.list };
  }
  return { root, diagnostics: diagnostics.list };
}

/**
 * Nodes keep a source offset and compute their line and column only when
 * asked (for a message): a large template has hundreds of thousands of
 * nodes and almost never needs their positions.
 */
abstract class Located {
  constructor(
    private readonly lines: LineIndex,
    readonly offset: number,
  ) {}

  get loc(): Loc {
    return this.lines.at(this.offset);
  }
}

class LocatedScalar extends Located implements ScalarNode {
  readonly kind = 'scalar';
  constructor(
    lines: LineIndex,
    offset: number,
    readonly value: Scalar,
  ) {
    super(lines, offset);
  }
}

class LocatedMap extends Located implements MapNode {
  readonly kind = 'map';
  constructor(
    lines: LineIndex,
    offset: number,
    readonly entries: readonly LocatedEntry[],
  ) {
    super(lines, offset);
  }
}

class LocatedSeq extends Located implements SeqNode {
  readonly kind = 'seq';
  constructor(
    lines: LineIndex,
    offset: number,
    readonly items: readonly Node[],
  ) {
    super(lines, offset);
  }
}

type LocatedNode = LocatedScalar | LocatedMap | LocatedSeq;

/** A key is kept as its text and offset: most keys never become nodes of their own. */
class LocatedEntry implements MapEntry {
  constructor(
    readonly key: string,
    private readonly lines: LineIndex,
    private readonly keyOffset: number,
    readonly value: Node,
  ) {}

  get keyLoc(): Loc {
    return this.lines.at(this.keyOffset);
  }
}

/** Offsets to 1-based lines and columns; lookups are mostly in order, so a cursor makes them cheap. */
class LineIndex {
  private readonly starts: number[] = [0];
  private cursor = 0;

  constructor(
    text: string,
    private readonly file: string,
  ) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1))
      this.starts.push(i + 1);
  }

  at(offset: number): Loc {
    const starts = this.starts;
    let line = this.cursor;
    if ((starts[line] ?? 0) > offset || (starts[line + 1] ?? Infinity) <= offset) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
      }
      line = lo;
      this.cursor = lo;
    }
    return { file: this.file, line: line + 1, col: offset - (starts[line] ?? 0) + 1 };
  }
}

/**
 * An open collection. Its children wait on the builder's shared lists from
 * `start` on, and move into an array of their exact size when it closes:
 * arrays grown by push keep room for 17, and a large template has a hundred
 * thousand small collections.
 */
type Frame =
  | {
      kind: 'map';
      offset: number;
      anchor?: string;
      start: number;
      /** After a key: its text (undefined when the key was not usable) and offset. */
      awaitingValue: boolean;
      key?: string;
      keyOffset: number;
      /** Keys seen, kept only for large maps; small ones are scanned. */
      seen?: Set<string>;
    }
  | { kind: 'seq'; offset: number; anchor?: string; start: number };

type MapFrame = Extract<Frame, { kind: 'map' }>;

const SMALL_MAP = 16;

/** Records `key` unless the map has it already (then says so); `entries` are the map's from `frame.start`. */
function addKey(frame: MapFrame, entries: readonly LocatedEntry[], key: string): boolean {
  if (frame.seen === undefined) {
    for (let i = frame.start; i < entries.length; i++) if (entries[i]?.key === key) return false;
    if (entries.length - frame.start >= SMALL_MAP)
      frame.seen = new Set(entries.slice(frame.start).map((e) => e.key));
    return true;
  }
  if (frame.seen.has(key)) return false;
  frame.seen.add(key);
  return true;
}

const TAGS: Record<string, string> = {
  '!': 'str',
  '!!str': 'str',
  '!!int': 'int',
  '!!float': 'float',
  '!!bool': 'bool',
  '!!null': 'null',
  '!!map': 'map',
  '!!seq': 'seq',
};

/** Builds located nodes from js-yaml's flat event stream, with an explicit stack (no recursion). */
class TreeBuilder {
  private readonly anchors = new Map<string, LocatedNode>();
  /**
   * One string per distinct key: a large template repeats the same few dozen
   * keys hundreds of thousands of times, and these copies would all stay alive.
   */
  private readonly keys = new Map<string, string>();
  private readonly stack: Frame[] = [];
  private readonly entries: LocatedEntry[] = [];
  private readonly items: Node[] = [];
  private root: LocatedNode | undefined;
  /** Whether any alias was followed: without one the tree cannot be bigger than the file. */
  aliased = false;

  constructor(
    private readonly text: string,
    private readonly lines: LineIndex,
    private readonly diagnostics: Diagnostics,
  ) {}

  build(events: readonly Event[]): Node | undefined {
    const stack = this.stack;
    let documents = 0;
    // An index, not for-of: this loop runs once per event (half a million for
    // a large template) and its iterator results were a tenth of all allocation.
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as Event;
      switch (event.type) {
        case EVENT_ID.DOCUMENT:
          if (++documents > 1) {
            this.diagnostics.add(
              'YAML_SYNTAX',
              'a template is a single YAML document',
              this.root?.loc,
            );
            return undefined;
          }
          break;
        case EVENT_ID.MAPPING:
        case EVENT_ID.SEQUENCE: {
          this.checkTag(
            event.tagStart,
            event.tagEnd,
            event.type === EVENT_ID.MAPPING ? 'map' : 'seq',
          );
          const anchor = this.anchorName(event.anchorStart, event.anchorEnd);
          stack.push(
            event.type === EVENT_ID.MAPPING
              ? {
                  kind: 'map',
                  offset: event.start,
                  anchor,
                  start: this.entries.length,
                  awaitingValue: false,
                  keyOffset: 0,
                }
              : { kind: 'seq', offset: event.start, anchor, start: this.items.length },
          );
          break;
        }
        case EVENT_ID.POP: {
          const frame = stack.pop();
          if (frame !== undefined) this.attach(this.close(frame), frame.anchor);
          break;
        }
        case EVENT_ID.SCALAR: {
          const top = stack[stack.length - 1];
          const anchor = this.anchorName(event.anchorStart, event.anchorEnd);
          if (top?.kind === 'map' && !top.awaitingValue && anchor === undefined) {
            // A plain key needs no node: its text and offset are all an entry keeps.
            const value = this.scalarValue(event);
            this.beginEntry(top, value, this.scalarOffset(event));
          } else {
            const value = this.scalarValue(event);
            this.attach(new LocatedScalar(this.lines, this.scalarOffset(event), value), anchor);
          }
          break;
        }
        case EVENT_ID.ALIAS: {
          const name = this.text.slice(event.anchorStart, event.anchorEnd);
          const target = this.anchors.get(name);
          const offset = Math.max(0, event.anchorStart - 1);
          if (target === undefined) {
            this.diagnostics.add(
              'YAML_SYNTAX',
              `alias *${name} refers to no finished anchor`,
              this.lines.at(offset),
            );
            this.attach(new LocatedScalar(this.lines, offset, null), undefined);
          } else {
            this.aliased = true;
            this.attach(target, undefined);
          }
          break;
        }
      }
    }
    return this.root;
  }

  private close(frame: Frame): LocatedNode {
    return frame.kind === 'map'
      ? new LocatedMap(this.lines, frame.offset, this.entries.splice(frame.start))
      : new LocatedSeq(this.lines, frame.offset, this.items.splice(frame.start));
  }

  private attach(node: LocatedNode, anchor: string | undefined): void {
    if (anchor !== undefined) this.anchors.set(anchor, node);
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.root = node;
    } else if (top.kind === 'seq') {
      this.items.push(node);
    } else if (!top.awaitingValue) {
      this.beginEntry(top, node.kind === 'scalar' ? node.value : undefined, node.offset);
    } else {
      top.awaitingValue = false;
      const key = top.key;
      if (key === undefined) return;
      if (addKey(top, this.entries, key)) {
        this.entries.push(new LocatedEntry(key, this.lines, top.keyOffset, node));
      } else {
        this.diagnostics.add(
          'DUPLICATE_KEY',
          `Map keys must be unique ('${key}' appears twice)`,
          this.lines.at(top.keyOffset),
        );
      }
    }
  }

  /** A key was read (`scalar` is undefined for a collection): its entry waits for the value. */
  private beginEntry(frame: MapFrame, scalar: Scalar | undefined, offset: number): void {
    frame.awaitingValue = true;
    frame.keyOffset = offset;
    if (scalar === undefined || scalar === null) {
      this.diagnostics.add('TYPE', 'mapping keys must be plain strings', this.lines.at(offset));
      frame.key = undefined;
      return;
    }
    const text = String(scalar);
    let key = this.keys.get(text);
    if (key === undefined) {
      key = text;
      this.keys.set(key, key);
    }
    frame.key = key;
  }

  private anchorName(start: number, end: number): string | undefined {
    return start < 0 ? undefined : this.text.slice(start, end);
  }

  /** Explicit tags: the core ones are understood; anything else (e.g. CloudFormation's !Ref) is an error. */
  private checkTag(start: number, end: number, kind: string): string | undefined {
    if (start < 0) return undefined;
    const raw = this.text.slice(start, end);
    const name = raw.replace(/^!<tag:yaml\.org,2002:(.*)>$/, '!!$1');
    const tag = TAGS[name];
    if (tag === undefined || (kind === 'map' || kind === 'seq') !== (tag === kind)) {
      this.diagnostics.add(
        'YAML_SYNTAX',
        `unsupported tag ${raw}; templates use plain YAML values and intrinsic functions`,
        this.lines.at(start),
      );
    }
    return tag;
  }

  private scalarValue(event: ScalarEvent): Scalar {
    const text = getScalarValue(this.text, event);
    const tag = this.checkTag(event.tagStart, event.tagEnd, 'scalar');
    if (tag !== undefined && tag !== 'str') return resolvePlain(text, tag) ?? text;
    if (tag === 'str' || event.style !== SCALAR_STYLE.PLAIN) return text;
    return resolvePlain(text) ?? text;
  }

  /** Where a scalar is shown: at its opening quote, or at the | or > of a block. */
  private scalarOffset(event: ScalarEvent): number {
    const quoted =
      event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED;
    const block =
      event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
    let start = quoted ? event.valueStart - 1 : event.valueStart;
    if (block) {
      const indicator = Math.max(
        this.text.lastIndexOf('|', event.valueStart),
        this.text.lastIndexOf('>', event.valueStart),
      );
      if (indicator >= 0) start = indicator;
    }
    return Math.max(0, start);
  }
}

/** The core schema's resolvers, in the order they are tried. */
const CORE_TAGS = Object.entries({
  null: nullCoreTag,
  bool: boolCoreTag,
  int: intCoreTag,
  float: floatCoreTag,
}).map(([name, tag]) => ({ name, tag, uri: `tag:yaml.org,2002:${name}` }));
/** Plain scalars starting with anything else are strings: skips the resolvers for most words. */
const MAYBE_NOT_STRING = /^[-+.0-9~nNtTfF]|^$/;

/** YAML 1.2 core schema resolution of a plain scalar (or of an explicitly tagged one). */
function resolvePlain(text: string, only?: string): Scalar | undefined {
  if (only === undefined && !MAYBE_NOT_STRING.test(text)) return undefined;
  for (const { name, tag, uri } of CORE_TAGS) {
    if (only !== undefined && only !== name) continue;
    const value = tag.resolve(text, only !== undefined, uri);
    if (value !== NOT_RESOLVED) return value as Scalar;
  }
  return undefined;
}

/** Size with aliases expanded, memoised per node so the count stays linear in the file. */
function expandedSize(node: Node, sizes: Map<Node, number>): number {
  const known = sizes.get(node);
  if (known !== undefined) return known;
  let size = 1;
  if (node.kind === 'map')
    for (const e of node.entries)
      size = Math.min(size + 1 + expandedSize(e.value, sizes), MAX_NODES + 1);
  if (node.kind === 'seq')
    for (const item of node.items) size = Math.min(size + expandedSize(item, sizes), MAX_NODES + 1);
  sizes.set(node, size);
  return size;
}

/** Where the expansion crosses the limit: the first collection that is too big on its own but whose children are not. */
function worstAlias(root: Node): Loc {
  const sizes = new Map<Node, number>();
  let node = root;
  for (;;) {
    const children =
      node.kind === 'map'
        ? node.entries.map((e) => e.value)
        : node.kind === 'seq'
          ? node.items
          : [];
    const big = children.find((c) => expandedSize(c, sizes) > MAX_NODES);
    if (big === undefined) return node.loc;
    node = big;
  }
}

/**
 * A node's plain value down to `depth` levels; deeper collections become
 * empty ones of the same kind. Enough for checking an entry's own keys
 * without copying everything under it.
 */
export function toShallow(node: Node, depth: number): unknown {
  if (node.kind === 'scalar') return node.value;
  if (depth <= 0) return node.kind === 'seq' ? [] : {};
  if (node.kind === 'seq') return node.items.map((i) => toShallow(i, depth - 1));
  const out: Record<string, unknown> = {};
  for (const entry of node.entries) out[entry.key] = toShallow(entry.value, depth - 1);
  return out;
}

/** Plain JavaScript value of a node (for schema checks that do not need positions). */
export function toPlain(node: Node): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const entry of node.entries) out[entry.key] = toPlain(entry.value);
      return out;
    }
  }
}

export function entryOf(node: MapNode, key: string): MapEntry | undefined {
  return node.entries.find((e) => e.key === key);
}

/** Human name of a node's kind for "expected X, got Y" messages. */
export function describeNode(node: Node): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  return describeValue(node.value);
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `string '${truncate(value)}'`;
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
