/**
 * Settings of the k6 scripts: environment variables (`k6 run -e NAME=value` or the shell's
 * environment), read once at init with the default written next to the name.
 */

/** @param {string} name @param {string} fallback @returns {string} */
export function envString(name, fallback) {
  const v = __ENV[name];
  return v === undefined || v === '' ? fallback : v;
}

/** @param {string} name @param {number} fallback @returns {number} */
export function envNumber(name, fallback) {
  const raw = envString(name, String(fallback));
  const n = Number(raw);
  // Fail at init with the variable's name rather than run a test with NaN rates.
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}="${raw}" is not a non-negative number`);
  return n;
}

/** Seconds in a k6 duration string ("90s", "1m30s", "500ms"). @param {string} text @returns {number} */
export function durationSeconds(text) {
  const units = /** @type {Record<string, number>} */ ({ ms: 0.001, s: 1, m: 60, h: 3600 });
  let total = 0;
  let rest = text.trim();
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`"${text}" is not a k6 duration like 90s, 3m or 1m30s`);
    total += Number(m[1]) * /** @type {number} */ (units[/** @type {string} */ (m[2])]);
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** The server's HTTP base URL (BASE_URL, default http://127.0.0.1:8080), without a trailing slash. */
export function baseUrl() {
  return envString('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
}

/** ws:// (or wss://) URL of the server's /ws route with a query string. @param {string} query */
export function wsUrl(query) {
  return `${baseUrl().replace(/^http/, 'ws')}/ws${query ? `?${query}` : ''}`;
}
