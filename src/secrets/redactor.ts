/** What a secret is replaced with, as plans and outputs show hidden values. */
export const HIDDEN = '(hidden)';

/**
 * Shorter values are not redacted: hiding every "ab" or "1" would wreck the
 * text and, by the holes it leaves, tell more than it hides.
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * Hides known secret values in text that might echo them: log lines, error
 * messages, command output. It is the last line of defence, not the first:
 * secrets should not reach such text at all.
 *
 * Besides each value as given, it hides the forms a value commonly takes on
 * its way into text: JSON-escaped (an error quoting a request body),
 * percent-encoded (a URL with credentials), and each line of a multi-line
 * value (a key file whose lines are logged one by one).
 */
export class Redactor {
  private readonly needles = new Set<string>();

  /** Remembers a secret; false when it is too short to be redacted. */
  add(value: string | Uint8Array): boolean {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    if (text.length < MIN_SECRET_LENGTH) return false;
    for (const form of formsOf(text)) {
      if (form.length >= MIN_SECRET_LENGTH) this.needles.add(form);
    }
    return true;
  }

  /** How many strings (values and their forms) are looked for. */
  get size(): number {
    return this.needles.size;
  }

  /**
   * The text with every occurrence of a known secret replaced by `(hidden)`.
   * Occurrences that overlap or touch become one `(hidden)`: replacing one
   * value after another could leave part of an overlapping one visible.
   */
  redact(text: string): string {
    const spans: [number, number][] = [];
    for (const needle of this.needles) {
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
        spans.push([at, at + needle.length]);
      }
    }
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = '';
    let cursor = 0;
    let open: [number, number] | undefined;
    for (const span of spans) {
      if (open !== undefined && span[0] <= open[1]) {
        open[1] = Math.max(open[1], span[1]);
        continue;
      }
      if (open !== undefined) {
        out += text.slice(cursor, open[0]) + HIDDEN;
        cursor = open[1];
      }
      open = [span[0], span[1]];
    }
    if (open !== undefined) {
      out += text.slice(cursor, open[0]) + HIDDEN;
      cursor = open[1];
    }
    return out + text.slice(cursor);
  }
}

function formsOf(value: string): string[] {
  const forms = [value, JSON.stringify(value).slice(1, -1)];
  const encoded = percentEncoded(value);
  if (encoded !== undefined) forms.push(encoded);
  if (/[\r\n]/.test(value)) forms.push(...value.split(/\r?\n/).map((line) => line.trim()));
  return forms;
}

function percentEncoded(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch (error) {
    // A lone surrogate has no percent-encoded form, so it cannot appear as one either.
    if (error instanceof URIError) return undefined;
    throw error;
  }
}
