#!/usr/bin/env node
// Production entry point: runs oclif over the compiled commands in dist/ (build with
// `npm run build`). `main` is oclif's `execute({dir})` with sealant's error reporting.
import { main } from '../dist/cli/main.js';

await main(import.meta.url);
