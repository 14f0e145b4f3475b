/**
 * The supervisor and the process groups with real, tiny children (a node
 * HTTP server each, on 127.0.0.1): a port taken at start is left for a
 * fresh one at once, a child that dies is restarted on its port, one whose
 * port was taken meanwhile moves (and its `moved` hook runs), restarts are
 * bounded, and a parent killed with SIGKILL leaves no child behind.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {createServer, type Server} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {after, describe, it} from 'node:test';
import {freePort} from '../../local/ports.js';
import {
  groupMembers,
  spawnInGroup,
  type ManagedProcess,
} from '../../local/process-group.js';
import {Supervisor, type RestartEvent} from '../../local/supervisor.js';
import {httpOk, waitUntil} from '../../local/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'supervisor-test-'));
after(() => rmSync(dir, {recursive: true, force: true}));

const SERVER =
  "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.argv[1]), '127.0.0.1')";

async function startServer(
  port: number,
  name = 'server',
): Promise<ManagedProcess> {
  const proc = spawnInGroup({
    name,
    command: process.execPath,
    args: ['-e', SERVER, String(port)],
    env: {PATH: process.env.PATH},
    logFile: join(dir, `${name}.log`),
  });
  try {
    await waitUntil(() => httpOk(`http://127.0.0.1:${port}/`, 500), {
      what: `${name} on ${port}`,
      timeoutMs: 10_000,
      intervalMs: 20,
      process: proc,
      port,
    });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function nextRestart(supervisor: Supervisor): Promise<RestartEvent> {
  return new Promise(resolve => supervisor.once('restarted', resolve));
}

describe('Supervisor', {timeout: 60_000}, () => {
  it('starts again on a fresh port at once when the port is taken', async () => {
    const taken = await freePort();
    const blocker = await holdPort(taken);
    const lines: string[] = [];
    // As if another process took the port between our choosing it and the child binding it.
    let picks = 0;
    const supervisor = new Supervisor({
      log: line => lines.push(line),
      freePort: async () => (picks++ === 0 ? taken : freePort()),
    });
    const started = Date.now();
    try {
      const child = await supervisor.add({
        name: 'web',
        start: port => startServer(port, 'web'),
      });
      assert.notEqual(child.port, taken);
      assert.ok(await httpOk(`http://127.0.0.1:${child.port}/`));
      assert.ok(Date.now() - started < 10_000, 'took 10 s or more');
      assert.ok(
        lines.some(l => l.includes(`trying again on port ${child.port}`)),
        lines.join('\n'),
      );
      supervisor.close();
      await supervisor.stop('web');
    } finally {
      blocker.close();
    }
  });

  it('restarts a child that dies on its port, then moves it if the port was taken', async () => {
    let movedTo = 0;
    const supervisor = new Supervisor();
    const child = await supervisor.add({
      name: 'web',
      start: port => startServer(port, 'web'),
      moved: async port => {
        movedTo = port;
      },
    });
    const port = child.port;
    const firstPid = child.process.pid;

    let restarted = nextRestart(supervisor);
    process.kill(-firstPid, 'SIGKILL');
    let event = await restarted;
    assert.equal(event.port, port);
    assert.equal(event.moved, false);
    assert.equal(event.exit.signal, 'SIGKILL');
    assert.notEqual(child.process.pid, firstPid);
    assert.ok(await httpOk(`http://127.0.0.1:${port}/`));

    // Take its port the moment it is free: the restart must move.
    restarted = nextRestart(supervisor);
    const secondPid = child.process.pid;
    process.kill(-secondPid, 'SIGKILL');
    let blocker: Server | undefined;
    for (let i = 0; i < 400 && !blocker; i++) {
      blocker = await holdPort(port).catch(() => undefined);
      if (!blocker) await sleep(2);
    }
    assert.ok(blocker, 'could not take the port');
    event = await restarted;
    blocker.close();
    if (event.moved) {
      assert.notEqual(event.port, port);
      assert.equal(movedTo, event.port);
      assert.ok(await httpOk(`http://127.0.0.1:${event.port}/`));
    } else {
      // The restart bound the port before the test could take it.
      assert.equal(event.port, port);
    }
    assert.equal(child.restarts, 2);
    supervisor.close();
    await supervisor.stop('web');
    assert.deepEqual(groupMembers(child.process.pid), []);
  });

  it('gives up after maxRestarts within the window, and says so', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor({
      maxRestarts: 2,
      windowMs: 60_000,
      log: line => lines.push(line),
    });
    const child = await supervisor.add({
      name: 'web',
      start: port => startServer(port, 'web'),
    });
    for (let i = 0; i < 2; i++) {
      const restarted = nextRestart(supervisor);
      process.kill(-child.process.pid, 'SIGKILL');
      await restarted;
    }
    const gaveUp = new Promise(resolve => supervisor.once('gave-up', resolve));
    process.kill(-child.process.pid, 'SIGKILL');
    await gaveUp;
    assert.equal(child.state, 'failed');
    assert.equal(child.restarts, 2);
    assert.ok(
      lines.some(l => /GAVE UP/.test(l)),
      lines.join('\n'),
    );
    await supervisor.stop('web');
  });
});

describe('process groups', {timeout: 30_000}, () => {
  it('a parent killed with SIGKILL leaves no child group behind (the reaper)', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    // A parent that starts a group (sleep) and reports its pid, then waits.
    const script = `
      import {spawnInGroup} from ${JSON.stringify(new URL('../../local/process-group.js', import.meta.url).href)};
      import {writeFileSync} from 'node:fs';
      const p = spawnInGroup({name: 'sleeper', command: 'sleep', args: ['300'], env: process.env, logFile: ${JSON.stringify(join(dir, 'sleeper.log'))}});
      writeFileSync(${JSON.stringify(pidFile)}, String(p.pid));
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(
      process.execPath,
      ['--input-type=module', '-e', script],
      {
        stdio: 'ignore',
      },
    );
    let pgid = 0;
    for (let i = 0; i < 200 && !pgid; i++) {
      await sleep(25);
      try {
        pgid = Number(readFileSync(pidFile, 'utf8'));
      } catch {
        // not yet
      }
    }
    assert.ok(pgid > 0, 'the parent did not start its child');
    assert.deepEqual(groupMembers(pgid), [pgid]);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (groupMembers(pgid).length > 0) {
      assert.ok(
        Date.now() < deadline,
        `group ${pgid} still runs 10 s after its parent died`,
      );
      await sleep(50);
    }
  });
});
