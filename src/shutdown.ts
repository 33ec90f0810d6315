/**
 * Stopping within seconds on SIGTERM/SIGINT (systemd kills at TimeoutStopSec=30 and the mail worker's clean hand-back
 * would be lost), under one deadline (SHUTDOWN_TIMEOUT_SECONDS) and with a log line for each thing it waited for.
 *
 * Why more than app.close(): Node's server.close() closes keep-alive connections that are idle *between* requests,
 * but a connection a browser opened and never used (Chromium opens spare ones) counts as busy, and the close waited
 * for the browser to drop it (45–50 s). Here every connection without a request in progress is closed at once, and
 * those with one are closed as soon as their response is sent.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface ShutdownOptions {
  app: FastifyInstance;
  /** Closes what the app does not own (database, Redis, mail transport). */
  closeRuntime: () => Promise<void>;
  timeoutSeconds: number;
  exit?: (code: number) => void;
}

/**
 * Counts the requests in progress on a server and on each connection, from Node's own events (so 404s and refused
 * requests count too), and closes the connections that have none.
 */
export function trackRequests(server: Server): { inFlight(): number; closeUnbusy(): number; closing(): void } {
  let inFlight = 0;
  let closing = false;
  const busy = new Map<Socket, number>();
  const open = new Set<ServerResponse>();
  server.on('connection', (socket: Socket) => {
    busy.set(socket, 0);
    socket.once('close', () => busy.delete(socket));
  });
  server.on('request', (req, res) => {
    inFlight++;
    open.add(res);
    // Answered during the shutdown: the client (or nginx) is told not to send more on this connection.
    if (closing) res.shouldKeepAlive = false;
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      inFlight--;
      open.delete(res);
      if (busy.has(socket)) busy.set(socket, Math.max(0, busy.get(socket)! - 1));
    });
  });
  return {
    inFlight: () => inFlight,
    closing() {
      closing = true;
      for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
    },
    closeUnbusy() {
      let closed = 0;
      for (const [socket, n] of busy) {
        if (n === 0 && !socket.destroyed) {
          socket.destroy();
          closed++;
        }
      }
      return closed;
    },
  };
}

/** Installs the SIGTERM/SIGINT handlers; a second signal during the shutdown exits at once (non-zero). */
export function installShutdown(o: ShutdownOptions): void {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const server = o.app.server;
  const requests = trackRequests(server);
  let closing = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) {
        o.app.log.warn({ signal }, 'shutdown: second signal, exiting now');
        exit(1);
        return;
      }
      closing = true;
      void shutdown(signal);
    });
  }

  async function shutdown(signal: string): Promise<void> {
    const log = o.app.log;
    const started = Date.now();
    const since = () => Date.now() - started;
    requests.closing();
    const atSignal = requests.inFlight();
    const connections = await new Promise<number>((resolve) =>
      server.getConnections((err, n) => resolve(err ? -1 : n)),
    );
    log.info(
      { signal, timeoutSeconds: o.timeoutSeconds, requestsInFlight: atSignal, openConnections: connections },
      'shutting down',
    );
    let waitingFor = 'requests in progress';

    const deadline = setTimeout(() => {
      log.error(
        { afterMs: since(), waitingFor, requestsInFlight: requests.inFlight() },
        'shutdown deadline reached (SHUTDOWN_TIMEOUT_SECONDS): exiting before the shutdown finished',
      );
      server.closeAllConnections();
      exit(1);
    }, o.timeoutSeconds * 1000);

    // Connections without a request in progress go now; the others once their response is sent. Polled, because a
    // keep-alive connection may start a request while the listener is closing.
    const drain = () => requests.closeUnbusy();
    const drainer = setInterval(drain, 20);
    server.once('close', () => {
      clearInterval(drainer);
      log.info(
        { waitedMs: since(), requestsAnswered: atSignal },
        'shutdown: HTTP server closed (requests in progress answered, connections closed)',
      );
      waitingFor = 'mail worker (the mail being sent)';
    });

    try {
      const closed = o.app.close(); // stops accepting at once; then the onClose hooks (mail worker, audit chain)
      drain();
      await closed;
      clearInterval(drainer);
      waitingFor = 'database';
      const dbStarted = Date.now();
      await o.closeRuntime();
      log.info({ waitedMs: Date.now() - dbStarted }, 'shutdown: database and connections closed');
    } catch (err) {
      clearTimeout(deadline);
      log.error({ err, afterMs: since() }, 'shutdown failed');
      exit(1);
      return;
    }
    clearTimeout(deadline);
    log.info({ tookMs: since() }, 'shutdown complete');
    exit(0);
  }
}
