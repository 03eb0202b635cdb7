/**
 * Building the console's rows and lists. Everything shown comes from the server, and some of it from
 * players (ban reasons, lock reasons) or from whoever controls a request: text is only ever set with
 * textContent, never parsed as HTML, so a reason cannot become markup in the moderator's page.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title !== undefined) e.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function button(text: string, onClick: () => void, props: { className?: string; title?: string } = {}) {
  const b = el('button', { ...props, text, attrs: { type: 'button' } });
  b.addEventListener('click', onClick);
  return b;
}
