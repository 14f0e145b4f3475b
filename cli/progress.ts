/**
 * A progress bar on a terminal (stderr), nothing otherwise.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** `unit` names what `update` counts (rows, MB, ...). */
export function progressBar(
  enabled: boolean,
  label: string,
  unit = 'rows',
): Progress {
  if (!enabled) return {update: () => undefined, stop: () => undefined};
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last = 0;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      const now = Date.now();
      if (now - last >= 100 || done === total) {
        bar.update(done);
        last = now;
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
