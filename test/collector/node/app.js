// A small Node.js app that pushes profiles to pg_pprof_collector with the
// real Pyroscope SDK (@pyroscope/nodejs 0.6.4), for test/collector.sh.
//
// It spends most of its time in hotFunctionForTest (labelled endpoint=/hot
// with wrapWithLabels), allocates in allocateForTest, and uploads wall and
// heap profiles every FLUSH_MS (default 5000) for DURATION_S seconds, then
// stops the SDK, which uploads the last profiles, and exits.
//
//   COLLECTOR_URL   server address (required)
//   APP_NAME        appName (default node-shop)
//   DURATION_S      how long to run (default 25)
//   FLUSH_MS        flushIntervalMs (default 5000)
//   TENANT_ID, BASIC_USER, BASIC_PASSWORD, AUTH_TOKEN   optional
'use strict';

const Pyroscope = require('@pyroscope/nodejs');

const durationMs = Number(process.env.DURATION_S || 25) * 1000;
const config = {
  serverAddress: process.env.COLLECTOR_URL,
  appName: process.env.APP_NAME || 'node-shop',
  flushIntervalMs: Number(process.env.FLUSH_MS || 5000),
  tags: { env: 'test', region: 'eu' },
  wall: { collectCpuTime: false },
  heap: { samplingIntervalBytes: 16 * 1024 },
};
if (process.env.TENANT_ID) config.tenantID = process.env.TENANT_ID;
if (process.env.BASIC_USER) {
  config.basicAuthUser = process.env.BASIC_USER;
  config.basicAuthPassword = process.env.BASIC_PASSWORD;
}
if (process.env.AUTH_TOKEN) config.authToken = process.env.AUTH_TOKEN;

Pyroscope.init(config);
Pyroscope.start();

// Burn CPU for about ms milliseconds: the function the wall profile must show on top.
function hotFunctionForTest(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 10000; i++) x += Math.sqrt(i * x + 1);
  }
  return x;
}

const kept = [];
// Allocate and keep some arrays, so the heap profile has something in use.
function allocateForTest() {
  kept.push(new Array(2000).fill(Math.random()));
  if (kept.length > 200) kept.shift();
}

const started = Date.now();
// One round: mostly hot work under a label, a little allocation, then yield to the SDK's timers.
function round() {
  if (Date.now() - started >= durationMs) {
    Pyroscope.stop().then(() => {
      console.log('node app: stopped after', Date.now() - started, 'ms');
      process.exit(0);
    });
    return;
  }
  Pyroscope.wrapWithLabels({ endpoint: '/hot' }, () => hotFunctionForTest(45));
  allocateForTest();
  setTimeout(round, 5);
}
round();
