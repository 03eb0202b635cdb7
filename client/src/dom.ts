/**
 * Finding the page's elements: the element, of the type the code needs, or an error that names what
 * index.html lacks. A renamed id or class then fails at start with its name, not later as "cannot
 * read properties of null" far from the cause.
 */

/** An element class such as HTMLButtonElement, for the `instanceof` check. */
export type ElementClass<T extends HTMLElement> = abstract new () => T;

/** The element with this id, or an error naming it. */
export function byId<T extends HTMLElement>(id: string, type: ElementClass<T>): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html lacks <${type.name}> #${id}`);
  return el;
}

/** The first element under `root` matching `selector`, or an error naming both. */
export function child<T extends HTMLElement>(root: HTMLElement, selector: string, type: ElementClass<T>): T {
  const el = root.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`index.html lacks <${type.name}> ${selector} in #${root.id}`);
  return el;
}
