/**
 * After answering a request whose body was not (fully) read, take in and
 * drop what the client still sends, up to a bound, before closing: closing
 * at once makes the peer's kernel reset the connection, and a client still
 * writing its body may then lose the answer (a "lingering close", as web
 * servers do). Nothing is buffered; past the bound or the time the socket
 * is destroyed.
 */
import type {IncomingMessage, ServerResponse} from 'node:http';

export const DRAIN_MAX_BYTES = 1 << 20;
export const DRAIN_MAX_MS = 10_000;

export function drainAfterAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes = DRAIN_MAX_BYTES,
  maxMs = DRAIN_MAX_MS,
): void {
  if (req.complete && req.readableEnded) return;
  const start = () => {
    let seen = 0;
    const stop = () => req.socket?.destroy();
    const timer = setTimeout(stop, maxMs);
    timer.unref();
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) {
        clearTimeout(timer);
        stop();
      }
    });
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
    req.on('error', () => undefined);
    req.resume();
  };
  if (res.writableFinished) start();
  else res.once('finish', start);
}
