/** Free TCP ports on the loopback interface. */
import {createServer} from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A port that was free a moment ago: the kernel picks it for a listener on
 * port 0, and the listener is closed again. Another process could take it in
 * between; the readiness checks of the callers would then fail loudly.
 */
export function freePort(): Promise<number> {
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

/** The given port, or a free one when none (or 0) is given. */
export async function portOrFree(port: number | undefined): Promise<number> {
  return port ? port : freePort();
}
