/**
 * Connection options for a NATS client that must never block or stop its app: it waits for
 * the first connection in the background and reconnects forever, `reconnectTimeWaitMs` apart;
 * pings detect a dead server within `pingIntervalMs · 2`. Shared by every NATS adapter.
 */
export function backgroundNatsOptions(
  url: string,
  name: string,
  { reconnectTimeWaitMs = 1_000, pingIntervalMs = 5_000 } = {},
) {
  return {
    servers: [url],
    name,
    waitOnFirstConnect: true,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: reconnectTimeWaitMs,
    pingInterval: pingIntervalMs,
    maxPingOut: 2,
  };
}
