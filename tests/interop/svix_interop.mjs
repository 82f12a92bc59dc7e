// SPDX-License-Identifier: MIT
// Interop with the official JavaScript libraries (npm `standardwebhooks` and `svix`), run by
// tests/interop/run.cmake:  node svix_interop.mjs <cases.json from our signer> <out.json for our verifier>
//  1. every signature our signer made must verify with both libraries, and a tampered body must not;
//  2. both libraries sign every case, and the signatures are written for our verifier to check.
// Exit status 0 only if every check passed.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";

const require = createRequire(process.env.MEETINGBAAS_NPM_PREFIX + "/");
const standard = require("standardwebhooks");
const svix = require("svix");

const [casesPath, outPath] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesPath, "utf8"));
let failures = 0;
const fail = (what) => {
  failures += 1;
  console.error("FAIL: " + what);
};

const out = [];
for (const c of cases) {
  const svixHeaders = { "svix-id": c.id, "svix-timestamp": c.timestamp, "svix-signature": c.signature };
  const standardHeaders = { "webhook-id": c.id, "webhook-timestamp": c.timestamp, "webhook-signature": c.signature };
  for (const secret of c.secrets) {
    // Our signature header lists one entry per secret: each library, holding any one secret, accepts it.
    try {
      new svix.Webhook(secret).verify(c.body, svixHeaders);
    } catch (e) {
      fail(`svix rejected our signature for ${c.id}: ${e.message}`);
    }
    try {
      new standard.Webhook(secret).verify(c.body, standardHeaders);
    } catch (e) {
      fail(`standardwebhooks rejected our signature for ${c.id}: ${e.message}`);
    }
    // The check can fail: a changed body must be refused.
    let refused = false;
    try {
      new svix.Webhook(secret).verify(c.body + " ", svixHeaders);
    } catch (e) {
      refused = true;
    }
    if (!refused) fail(`svix accepted a tampered body for ${c.id}`);
  }
  const when = new Date(Number(c.timestamp) * 1000);
  const secret = c.secrets[0];
  out.push({
    id: c.id,
    timestamp: c.timestamp,
    body: c.body,
    secret,
    svix_signature: new svix.Webhook(secret).sign(c.id, when, c.body),
    standardwebhooks_signature: new standard.Webhook(secret).sign(c.id, when, c.body),
  });
}
writeFileSync(outPath, JSON.stringify(out, null, 1));
console.log(`node: checked ${cases.length} signatures of ours with svix and standardwebhooks; ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
