/**
 * Telling a player who looked away that the cooldown is over: the tab title always (status-text.ts's
 * titleFor), and, once they opt in with the bell button, a notification (Notification API, only while
 * the page is not visible), a short beep and a vibration on phones that have one. The choice is kept
 * in localStorage. DOM only; the texts are pure, in status-text.ts.
 */

const STORAGE_KEY = 'canvas.notify';

export interface ReadySignalElements {
  /** The bell: aria-pressed while the player wants to be told. */
  bell: HTMLButtonElement;
  /** A polite live region: told when a cooldown starts and when it ends (the countdown is not live). */
  announce: HTMLElement;
}

export class ReadySignal {
  private on: boolean;
  private waiting = false;
  private audio: AudioContext | null = null;

  constructor(private readonly el: ReadySignalElements) {
    this.on = readStorage() === 'on';
    el.bell.addEventListener('click', () => void this.toggle());
    this.render();
  }

  /**
   * Called with every countdown refresh (`text`: the countdown's): sets the title; a screen reader is
   * told when a cooldown starts and when it ends, not every second; the end is signalled once.
   */
  update(title: string, waiting: boolean, text: string): void {
    if (document.title !== title) document.title = title;
    const started = !this.waiting && waiting;
    const ended = this.waiting && !waiting;
    this.waiting = waiting;
    if (started || (ended && text !== '')) this.el.announce.textContent = text;
    if (ended && this.on) this.signal();
  }

  private async toggle(): Promise<void> {
    this.on = !this.on;
    writeStorage(this.on ? 'on' : 'off');
    this.render();
    if (!this.on) return;
    // Asked on this click (browsers ask only on a user gesture); refused, the sound and vibration stay.
    if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
      await Notification.requestPermission().catch(() => 'denied');
    }
    // An AudioContext made during the click may play later without another gesture.
    this.audio ??= typeof AudioContext === 'undefined' ? null : new AudioContext();
  }

  private render(): void {
    this.el.bell.setAttribute('aria-pressed', String(this.on));
    this.el.bell.title = this.on
      ? 'You will be told when you can place again (click to stop)'
      : 'Tell me when I can place again';
  }

  private signal(): void {
    if (
      document.visibilityState !== 'visible' &&
      typeof Notification !== 'undefined' &&
      Notification.permission === 'granted'
    ) {
      new Notification('Ready to place', { body: 'Your next pixel is ready.', tag: 'canvas-ready' });
    }
    navigator.vibrate?.(200);
    this.beep();
  }

  /** 150 ms at 880 Hz, quiet: a generated tone rather than a sound file to fetch. */
  private beep(): void {
    const ctx = this.audio;
    if (!ctx) return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    gain.gain.value = 0.05;
    osc.frequency.value = 880;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.15);
  }
}

/** localStorage, which throws where storage is disabled; the choice then lasts for the page only. */
function readStorage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function writeStorage(value: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, value);
  } catch {
    // storage disabled: kept in memory only
  }
}
