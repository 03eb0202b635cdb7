/**
 * k6: the origin scenario, clients polling GET /image at a rate ramping from START_RATE to
 * TARGET_RATE requests per second over DURATION (ramping-arrival-rate, so a slow server shows up as
 * latency and dropped iterations instead of a politely lower rate). Settings and thresholds:
 * perf/README.md, "k6 scenarios".
 *
 *   k6 run -e START_RATE=100 -e TARGET_RATE=5000 -e DURATION=1m perf/k6/image-poll.js
 */
import { check } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { baseUrl, durationSeconds, envNumber, envString } from './lib/env.js';

const URL = `${baseUrl()}/image`;
const START_RATE = envNumber('START_RATE', 10);
const TARGET_RATE = envNumber('TARGET_RATE', 100);
const DURATION = envString('DURATION', '3m');
const CONDITIONAL = envString('CONDITIONAL', '0') === '1';
const P95_MS = envNumber('P95_MS', 50);
const P99_MS = envNumber('P99_MS', 200);
const DROPPED_MAX_PERCENT = envNumber('DROPPED_MAX_PERCENT', 1);
// A cached /image answers in well under a millisecond on loopback: a few VUs hold 100 req/s, and
// MAX_VUS bounds how far k6 may go to keep the rate when the server slows down.
const PRE_VUS = envNumber('PRE_VUS', Math.max(5, Math.ceil(TARGET_RATE / 20)));
const MAX_VUS = envNumber('MAX_VUS', Math.max(50, TARGET_RATE));

/** Requests k6 plans over the ramp (the area under the linear rate ramp). */
const planned = ((START_RATE + TARGET_RATE) / 2) * durationSeconds(DURATION);

const imageBytes = new Counter('canvas_image_bytes');

export const options = {
  // The body is not inspected (headers say what it is); discarding it keeps k6's memory flat.
  discardResponseBodies: true,
  scenarios: {
    image_poll: {
      executor: 'ramping-arrival-rate',
      startRate: START_RATE,
      timeUnit: '1s',
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
      stages: [{ target: TARGET_RATE, duration: DURATION }],
    },
  },
  thresholds: {
    // Errors: connection failures and non-2xx/3xx responses (304 counts as expected).
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{expected_response:true}': [`p(95)<${P95_MS}`, `p(99)<${P99_MS}`],
    // The server kept up: k6 started (almost) every planned request.
    dropped_iterations: [`count<${Math.max(1, Math.ceil((planned * DROPPED_MAX_PERCENT) / 100))}`],
  },
};

/** The last ETag this VU received (each VU has its own copy of module state). */
let etag = '';

export default function () {
  const params = CONDITIONAL && etag ? { headers: { 'If-None-Match': etag } } : {};
  const res = http.get(
    URL,
    Object.assign({ tags: { name: 'GET /image' }, responseCallback: http.expectedStatuses(200, 304) }, params),
  );
  if (res.status === 304) {
    check(res, { 'status is 200, or 304 for our ETag': () => CONDITIONAL && etag !== '' });
    return;
  }
  check(res, {
    'status is 200': (r) => r.status === 200,
    'content-type is image/png': (r) => r.headers['Content-Type'] === 'image/png',
    'has a strong ETag': (r) => /^"[^"]+"$/.test(r.headers['Etag'] ?? ''),
  });
  etag = res.headers['Etag'] ?? '';
  imageBytes.add(Number(res.headers['Content-Length'] ?? 0));
}
