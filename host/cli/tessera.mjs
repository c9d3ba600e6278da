#!/usr/bin/env node
// The `tessera` command. Plain JavaScript, so that it runs on any Node: first the Node 24
// check, then the CLI — from its TypeScript sources in a checkout (always current, no build
// step), or compiled to dist/ by `prepack` in the installed package, which ships no sources
// because Node does not strip types under node_modules.
import { existsSync } from 'node:fs';
import './require-node-24.mjs';

const sources = new URL('./tessera.ts', import.meta.url);
await import(existsSync(sources) ? sources.href : new URL('../../dist/host/cli/tessera.js', import.meta.url).href);
