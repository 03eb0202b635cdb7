/**
 * The ALTCHA widget, in its own bundle (client/dist/pow.js, ~110 KB): loaded only when the server
 * asks this page for a proof of work, so players of a canvas without challenges never download it.
 * The widget stays invisible and solves in its Web Workers; the page says what is going on
 * (proof-of-work.ts).
 */
// Registers <altcha-widget> and types it (HTMLElementTagNameMap).
import 'altcha';
import type { PowChallenge } from '../../../protocol/messages.ts';

/** Solves `challenge`; resolves to the `pow` a placement carries, or null if the widget failed. */
export async function solve(challenge: PowChallenge): Promise<string | null> {
  const widget = document.createElement('altcha-widget');
  widget.hidden = true;
  document.body.append(widget);
  try {
    await customElements.whenDefined('altcha-widget');
    // minDuration 0: the widget otherwise pads a quick solve to half a second.
    await widget.configure({ challenge, auto: 'off', display: 'invisible', minDuration: 0 });
    const result = await widget.verify();
    return result?.payload ?? null;
  } finally {
    widget.remove();
  }
}
