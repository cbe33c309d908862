#!/usr/bin/env node
// Executable entry of the `waymark` CLI: loads the TypeScript sources through tsx and hands over the process's I/O.
'use strict';
require('tsx/cjs');
const { readFile, writeFile } = require('node:fs/promises');
const { run } = require('./waymark.ts');

run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFile(path, 'utf8'),
  writeFile: (path, text) => writeFile(path, text, 'utf8'),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`waymark: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 70;
  },
);
