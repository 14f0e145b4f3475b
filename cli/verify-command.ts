/**
 * `exploration-data verify DIR`: re-reads the files and checks them against
 * their metadata; exit status 1 when any check fails, 2 when DIR is not a
 * folder of a dataset (bad input).
 */
import {resolve} from 'node:path';
import {
  describeFit,
  verifyDirectory,
  type VerifyReport,
} from '../shared/verify/verify.js';
import {DATASET_VERSION_BOUNDS, parseIntegerFlag} from './generate-command.js';

export interface VerifyFlags {
  datasetVersion?: string;
  json?: boolean;
}

export function formatReport(report: VerifyReport): string {
  const lines = report.checks.map(
    c => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`,
  );
  lines.push(`bound: ${report.bound}`);
  const {creatives, targetStores, familyWiseAlpha} = report.statistics;
  if (creatives && targetStores) {
    lines.push(
      `goodness-of-fit (${creatives.method}):`,
      `  creatives:     ${describeFit(creatives, 'creatives')}`,
      `  target stores: ${describeFit(targetStores, 'target stores')}`,
      `  a correct dataset fails any statistical check with probability at most ${familyWiseAlpha}`,
    );
  }
  const failed = report.checks.filter(c => !c.ok).length;
  lines.push(
    report.ok
      ? `dataset v${report.version} in ${report.directory}: all ${report.checks.length} checks passed`
      : `dataset v${report.version} in ${report.directory}: ${failed} of ${report.checks.length} checks FAILED`,
  );
  return lines.join('\n') + '\n';
}

export async function runVerify(
  directory: string,
  flags: VerifyFlags,
): Promise<boolean> {
  const report = await verifyDirectory(
    resolve(directory),
    parseIntegerFlag(
      flags.datasetVersion,
      'datasetVersion',
      DATASET_VERSION_BOUNDS,
    ),
  );
  process.stdout.write(
    flags.json ? JSON.stringify(report) + '\n' : formatReport(report),
  );
  return report.ok;
}
