'use strict';
// gts: the style Google's own Node.js projects use.
module.exports = [
  {ignores: ['build/', 'node_modules/', 'terraform/', '.cache/']},
  ...require('gts'),
  {
    // node:test's describe/it return promises the runner itself awaits.
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: [
                'describe',
                'it',
                'test',
                'suite',
                'before',
                'after',
                'beforeEach',
                'afterEach',
              ],
            },
          ],
        },
      ],
    },
  },
];
