// Loaded with `node --test --import` (package.json's test script) into the test runner and into every
// test file's process: each gets a temp directory of its own as TMPDIR, removed when it exits. Tests copy
// fixtures, build node trees with private keys, start etcd and a fake API server under os.tmpdir() and
// leave them there (a failed test's tree is what one reads to see why); without this a run of the suite
// left ~300 directories and a few hundred MB in /tmp, every run. A test file that crashes or is killed
// leaves its directory inside the runner's, which the runner removes. KUBEPKI_KEEP_TEST_TMP=1 keeps them
// all and says where.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubepki-test-'));
// (os.tmpdir() reads TMPDIR at each call, and the processes the tests start inherit it)
process.env.TMPDIR = dir;
process.on('exit', () => {
  if (process.env.KUBEPKI_KEEP_TEST_TMP) {
    process.stderr.write(`kubepki tests: kept ${dir}\n`);
    return;
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    // a process a test started may still be writing there (an etcd being stopped): the runner's own
    // directory, around this one, is removed when the runner exits
  }
});
