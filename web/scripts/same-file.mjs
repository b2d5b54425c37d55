// Fails when the committed generated client differs from what the current OpenAPI document generates.
import { readFileSync, rmSync } from "node:fs";

const [committed, fresh] = process.argv.slice(2);
const same = readFileSync(committed, "utf8") === readFileSync(fresh, "utf8");
rmSync(fresh);
if (!same) {
  console.error(`${committed} is stale: run \`make web-client\` (npm run generate) and commit it`);
  process.exit(1);
}
console.log(`${committed} is up to date`);
