// Tiny DOM helpers. Text always goes in as text (textContent, attributes),
// never as markup: nothing the API returns can become HTML.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {{
 *   class?: string,
 *   text?: string,
 *   on?: Record<string, (event: Event) => void>,
 *   style?: Record<string, string>,
 *   [attribute: string]: unknown,
 * }} Props
 */

/**
 * @param {Element} el
 * @param {Props} props
 * @param {Child[]} children
 */
function fill(el, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', String(value));
    else if (key === 'style' && el instanceof HTMLElement) {
      // Through the CSSOM: the content security policy refuses style attributes.
      for (const [name, v] of Object.entries(/** @type {Record<string, string>} */ (value)))
        el.style.setProperty(name, v);
    } else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') {
      for (const [type, listener] of Object.entries(
        /** @type {Record<string, (event: Event) => void>} */ (value),
      ))
        el.addEventListener(type, listener);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
  return el;
}

/**
 * An HTML element.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  return /** @type {HTMLElementTagNameMap[K]} */ (
    fill(document.createElement(tag), props, children)
  );
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * An SVG element.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...Child} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, props = {}, ...children) {
  return /** @type {SVGElementTagNameMap[K]} */ (
    fill(document.createElementNS(SVG, tag), props, children)
  );
}

/**
 * The element with this id (the page's skeleton has them all).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
}

/** @param {string} id */
export const shortId = (id) => id.slice(0, 12);

/**
 * "12:03:04", or the date too when it is not today.
 * @param {string | undefined} iso
 */
export function when(iso) {
  if (iso === undefined) return '';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/**
 * A table with a caption; `rows` are arrays of cells.
 * @param {string} caption
 * @param {string[]} head
 * @param {Child[][]} rows
 * @param {Props} [props]
 */
export function table(caption, head, rows, props = {}) {
  return h(
    'table',
    props,
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((row) => h('tr', {}, ...row.map((c) => h('td', {}, c))))),
  );
}

/**
 * A coloured word for a state (healthy, unhealthy, starting, deploying, running…).
 * @param {string} state
 * @param {string} [text]
 */
export const badge = (state, text = state) => h('span', { class: `badge ${state}` }, text);
