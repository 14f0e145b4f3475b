#!/usr/bin/env node
/** The `exploration-data` executable. */
import {main} from './program.js';

void main(process.argv).then(code => {
  process.exitCode = code;
});
