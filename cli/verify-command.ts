/**
 * `exploration-data verify DIR`: re-reads the files and checks them against
 * their metadata; exit status 1 when any check fails.
 */
import {resolve} from 'node:path';
import {verifyDirectory} from '../shared/verify.js';
import {parseCount} from './generate-command.js';

export async function runVerify(
  directory: string,
  flags: {version?: string; json?: boolean},
): Promise<boolean> {
  const report = await verifyDirectory(
    resolve(directory),
    parseCount(flags.version, 'version'),
  );
  if (flags.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    const lines = report.checks.map(
      c => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`,
    );
    lines.push(`bound: ${report.bound}`);
    lines.push(
      report.ok
        ? `dataset v${report.version} in ${report.directory}: all ${report.checks.length} checks passed`
        : `dataset v${report.version} in ${report.directory}: ${report.checks.filter(c => !c.ok).length} checks FAILED`,
    );
    process.stdout.write(lines.join('\n') + '\n');
  }
  return report.ok;
}
