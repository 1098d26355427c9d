import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BARE, UNTIL_DOUBLE_QUOTE, flagInText, hasLineBreak } from '../src/inventory/flags.js';
import { isDigit } from '../src/inventory/names.js';
import { certificatesDirOfCa } from '../src/layouts/detect.js';

// flagInText stands for the patterns check used to run on manifests and kubeadm-flags.env: same answers
const texts = [
  '    - --advertise-address=10.0.0.1\n    - --secure-port=6443\n',
  '    - --advertise-address=\n    - --advertise-address="10.0.0.2"\n',
  "  - --secure-port='x'\n  - --secure-port=\"8443\"\n",
  '  - --secure-port="\n  - --secure-port=7\n',
  'KUBELET_KUBEADM_ARGS="--kubeconfig=/etc/kubernetes/kubelet.conf --x=1"',
  "--kubeconfig=/a'b\u00a0c --client-ca-file='/etc/kubernetes/pki/ca.crt'",
  '--client-ca-file="" --client-ca-file=\'\' --client-ca-file= /x/ca.crt --client-ca-file=/y/ca.crt',
  '',
];
const cases: [string, (c: number) => boolean, boolean, RegExp][] = [
  ['--advertise-address', BARE, false, /--advertise-address=([^\s"']+)/],
  ['--secure-port', isDigit, true, /--secure-port=["']?(\d+)/],
  ['--kubeconfig', UNTIL_DOUBLE_QUOTE, false, /--kubeconfig=([^\s"]+)/],
  ['--client-ca-file', BARE, true, /--client-ca-file=["']?([^\s"']+)/],
];

test('a flag written in a text: the value the pattern it replaces finds', () => {
  for (const text of texts) {
    for (const [flag, accept, quoted, re] of cases) assert.equal(flagInText(text, flag, accept, quoted), re.exec(text)?.[1], `${flag} in ${JSON.stringify(text)}`);
  }
  assert.equal(flagInText(texts[1]!, '--advertise-address', BARE), undefined, 'a quoted value is not taken unquoted');
  assert.equal(flagInText(texts[3]!, '--secure-port', isDigit, true), '7');
});

test('line breaks and the certificates directory of a CA path', () => {
  assert.deepEqual(['a', 'a\nb', 'a\rb', 'a\u2028', '\u2029'].map(hasLineBreak), [false, true, true, true, true]);
  for (const f of ['/etc/kubernetes/pki/ca.crt', '//ca.crt', '/x/ca.crt', 'x/ca.crt', '/a\nb/ca.crt', '/a/ca.crt2', '///ca.crt']) {
    assert.equal(certificatesDirOfCa(f), /^\/.+\/ca\.crt$/.test(f) ? f.slice(0, -7) : undefined, f);
  }
});
