'use strict';
/**
 * The gateway under soak: the built service (dist/bootstrap.js, the same bootstrap as dist/main.js)
 * in a child process of bench/soak.js, started with --expose-gc and configured from SOAK_GATEWAY_ENV.
 * It answers `stats` messages over IPC (after a full GC when asked): memory, active handles, open
 * connections, listeners, requests in flight and process warnings.
 */
const { createGateway } = require('../dist/bootstrap');
const { InFlightTracker } = require('../dist/ops/in-flight.tracker');

const warnings = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] || 0) + 1;
  return out;
}

function listeners(emitter) {
  return emitter.eventNames().reduce((n, e) => n + emitter.listenerCount(e), 0);
}

async function main() {
  const env = JSON.parse(process.env.SOAK_GATEWAY_ENV || '{}');
  const gateway = await createGateway({ LOG_LEVEL: 'error', ...env }, { forceCloseConnections: true });
  await gateway.app.listen(0, '127.0.0.1');
  const server = gateway.app.getHttpServer();
  const inFlight = gateway.app.get(InFlightTracker);

  process.on('message', async (msg) => {
    if (msg.cmd === 'stats') {
      if (msg.gc) {
        global.gc();
        global.gc();
      }
      const mem = process.memoryUsage();
      const connections = await new Promise((r) => server.getConnections((_e, n) => r(n)));
      process.send({
        id: msg.id,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
        resources: countBy(process.getActiveResourcesInfo()),
        connections,
        inFlight: inFlight.size,
        processListeners: listeners(process),
        serverListeners: listeners(server),
        warnings: warnings.slice(),
      });
    } else if (msg.cmd === 'close') {
      await gateway.app.close();
      process.exit(0);
    }
  });
  process.send({ ready: true, port: server.address().port });
}

main().catch((err) => {
  process.stderr.write(`soak gateway failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
