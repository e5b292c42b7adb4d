#!/usr/bin/env node
// Production entry point: runs oclif over the compiled commands in dist/ (build with
// `npm run build`). `main` is oclif's `execute({dir})` with sealant's error reporting.
// The AWS SDK (loaded only for KMS files) warns on every run under Node 20 about a future
// release; that line would break sealant's one-line error output. The lock file pins the SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = await import('../dist/cli/main.js');

await main(import.meta.url);
