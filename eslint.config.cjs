'use strict';
// gts: the style Google's own Node.js projects use.
module.exports = [{ignores: ['build/', 'node_modules/', 'terraform/', '.cache/']}, ...require('gts')];
