// Reads a file in a tight loop for <ms> and reports every read that is not
// one complete version as written by atomic-write.test.ts:
//   "begin <n> <length>\n" … "end <n>\n", <length> bytes in all.
// Run with plain node: torn-reader.mjs <file> <ms>; prints one JSON line.
import { readFileSync } from 'node:fs';

const [file, ms] = process.argv.slice(2);
const until = Date.now() + Number(ms);
const versions = new Set();
const bad = [];
let reads = 0;
while (Date.now() < until) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    bad.push(`read failed: ${error.code}`);
    continue;
  }
  reads += 1;
  const head = /^begin (\d+) (\d+)\n/.exec(text);
  if (head === null || text.length !== Number(head[2]) || !text.endsWith(`end ${head[1]}\n`)) {
    bad.push(`torn read of ${text.length} bytes: ${JSON.stringify(text.slice(0, 30))}`);
  } else {
    versions.add(head[1]);
  }
  if (bad.length > 10) break;
}
process.stdout.write(`${JSON.stringify({ reads, versions: versions.size, bad })}\n`);
