/** Free TCP ports on the loopback interface. */
import {createServer} from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * Ports this process has handed out. The kernel may give the same port to two
 * listeners on port 0 opened one after the other (the first one closed), and
 * two emulators given one port make the slower one fail to bind while the
 * readiness check sees the faster one: so a port is never handed out twice.
 */
const handedOut = new Set<number>();

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port that was free a moment ago and that this process has not handed out
 * before. Another process could still take it in between.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await kernelPort();
    if (port !== 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found in 100 attempts');
}

/** The given port, or a free one when none (or 0) is given. */
export async function portOrFree(port: number | undefined): Promise<number> {
  return port ? port : freePort();
}
