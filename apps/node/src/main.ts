import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { bootstrapApp } from '@parley/app-kit';
import { commandLogApp, localCommandLogOf } from '../../command-log/src/command-log.app';
import { crdtApp, localCrdtWritesOf } from '../../crdt/src/crdt.app';
import { decisionApiApp } from '../../decision-api/src/decision-api.app';
import { gossipApp } from '../../gossip/src/gossip.app';
import { NodePart, nodeEnvironments } from './node-parts';

/**
 * A Parley node: a command-log replica, a crdt replica, a gossip member and decision-api in one
 * process (PARLEY_NODE_PARTS picks some), sharing one Node.js runtime instead of four, and
 * decision-api calling its own replicas in-process: commands and reads to the command-log
 * replica (the others over TCP), eventual writes to the crdt replica (its reads over HTTP). The separate apps remain
 * the other way to deploy; both run the same code. node-parts.ts says how settings are shared.
 */
const definitions = {
  'command-log': commandLogApp,
  crdt: crdtApp,
  gossip: gossipApp,
  'decision-api': decisionApiApp(),
};

async function main(): Promise<void> {
  const split = nodeEnvironments(
    process.env,
    (part) => new Set(Object.keys(definitions[part].schema.shape)),
  );
  if (!split.ok) {
    for (const problem of split.problems) process.stderr.write(`node: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  const logPrefix = `node/${process.env.PARLEY_NODE_ID ?? 'node-1'}`;
  const started: [NodePart, INestApplication][] = [];
  const local: Parameters<typeof decisionApiApp>[0] = {};
  try {
    for (const part of split.parts) {
      const definition = part === 'decision-api' ? decisionApiApp(local) : definitions[part];
      const app = await bootstrapApp(definition as typeof commandLogApp, {
        env: split.envs.get(part),
        shutdownHooks: false,
        logPrefix,
      });
      if (!app) break; // a bad setting, reported with exit code 2
      started.push([part, app]);
      if (part === 'command-log') local.commandLog = localCommandLogOf(app);
      if (part === 'crdt') local.crdtWrites = localCrdtWritesOf(app);
    }
  } catch (error) {
    process.stderr.write(`node: start-up failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
  if (started.length < split.parts.length) {
    await closeAll(started);
    process.exitCode ||= 1;
    return;
  }
  closeOnSignal(started);
}

/**
 * Closes the apps in the reverse of their start order: decision-api stops taking requests and
 * settles what it holds before the replica it calls goes away.
 */
async function closeAll(started: readonly [NodePart, INestApplication][]): Promise<void> {
  for (const [part, app] of [...started].reverse()) {
    try {
      await app.close();
    } catch (error) {
      process.stderr.write(`node: closing ${part} failed: ${String(error)}\n`);
    }
  }
}

/** SIGTERM or SIGINT closes every app once, then ends the process by that signal, as one app does. */
function closeOnSignal(started: readonly [NodePart, INestApplication][]): void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    void closeAll(started).then(() => {
      for (const name of signals) process.removeListener(name, onSignal);
      process.kill(process.pid, signal);
    });
  };
  for (const name of signals) process.on(name, onSignal);
}

void main();
