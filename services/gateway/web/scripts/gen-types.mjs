#!/usr/bin/env node
/**
 * Writes src/types/messages.ts from the message schemas snapshotted by libs/common's contract
 * tests. Run before every build and test run (npm prebuild/pretest), so the dashboard's types
 * follow the pydantic models. Rewrites the file only when its content changes.
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemasToTs } from './schema-to-ts.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const source = resolve(here, '../../../../libs/common/tests/contracts/schemas.json');
const target = resolve(here, '../src/types/messages.ts');

const text = schemasToTs(JSON.parse(readFileSync(source, 'utf8')));
if (!existsSync(target) || readFileSync(target, 'utf8') !== text) {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`gen-types: wrote ${target}`);
}
