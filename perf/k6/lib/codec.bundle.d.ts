// Types of codec.bundle.js, which `npm run k6:bundle` builds from codec.ts (not committed).
export function encode(value: unknown): Uint8Array;
export function decode(bytes: Uint8Array | ArrayBuffer): unknown;
