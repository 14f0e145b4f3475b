/**
 * The floor: writes files of given sizes, filled with zeros in 8 MiB chunks,
 * and fsyncs each one. No generator can put the same bytes on the same disk
 * faster, so a producer's wall time over this one's is its overhead factor.
 *
 *   node build/bench/floor.js --out DIR --bytes 1502789,121000000,17786
 *
 * Prints one JSON line: {"producer": "floor", "outputBytes", "files", "seconds"}.
 */
import {open, mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {parseArgs} from 'node:util';

const CHUNK = 8 << 20;

async function writeZeros(path: string, bytes: number, zeros: Buffer) {
  const file = await open(path, 'wx');
  try {
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      let done = 0;
      while (done < n) {
        const {bytesWritten} = await file.write(zeros, done, n - done);
        done += bytesWritten;
      }
      left -= n;
    }
    await file.sync();
  } finally {
    await file.close();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const {values} = parseArgs({
    options: {out: {type: 'string'}, bytes: {type: 'string'}},
  });
  if (!values.out || !values.bytes) {
    throw new Error('usage: floor.js --out DIR --bytes N[,N...]');
  }
  const sizes = values.bytes.split(',').map(s => Number(s));
  if (sizes.some(n => !Number.isSafeInteger(n) || n < 0)) {
    throw new Error(`--bytes: not a list of byte counts: ${values.bytes}`);
  }
  await mkdir(values.out, {recursive: true});
  const zeros = Buffer.alloc(CHUNK);
  const files: Record<string, number> = {};
  for (const [i, size] of sizes.entries()) {
    const name = `floor-${i}.bin`;
    await writeZeros(join(values.out, name), size, zeros);
    files[name] = size;
  }
  const outputBytes = sizes.reduce((a, b) => a + b, 0);
  process.stdout.write(
    JSON.stringify({
      producer: 'floor',
      outputBytes,
      files,
      seconds: {total: (performance.now() - started) / 1000},
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`floor: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
