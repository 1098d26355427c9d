import { Command, Option } from 'commander';
import type { Io } from './io.js';
import { readInventory } from '../inventory/read.js';
import { parseEndpoint, probeEndpoint } from '../probe/probe.js';
import { formatHostPort } from '../server/listen.js';
import { compareServed, attachDiskSigners, missingIntermediate } from '../probe/compare.js';
import { servedInventory } from './inspect.js';
import { renderInventoryShort } from '../report/cert-text.js';
import { rootOption, nowOption, resolveNow, openNode, tlsOptions, timeoutMs } from './options.js';

interface ProbeOptions { root?: string; now?: string; output: string; servername?: string; timeout: string }

export function command(io: Io): Command {
  return new Command('probe')
    .summary('show the chain a live endpoint serves and whether it is the one on disk')
    .description(`Handshake with HOST:PORT (like openssl s_client -showcerts), show the served chain, and
compare the served leaf with the certificates on disk under --root: "matches disk", or
"stale: serving serial X, disk has Y" when a component was renewed but never restarted.

Examples:
  kubepki probe 127.0.0.1:6443            # kube-apiserver
  kubepki probe 127.0.0.1:2379            # etcd
  kubepki probe 10.0.0.5:10250            # a kubelet
  kubepki probe 127.0.0.1:6443 --root /mnt/node -o json

A server whose certificate was signed by an intermediate CA on disk must send that
intermediate too: "incomplete chain" when it does not (clients trusting only the root fail).

A member of the node's external etcd (kubeadm's etcd.external) serves a certificate kept on
the etcd's hosts: it is checked as kube-apiserver checks it instead (its dates, serverAuth, its
--etcd-cafile CA, the host it dials).

Exit codes: 0 matches disk (or an external etcd member kube-apiserver accepts), 1 not found
on disk, 2 stale, expired, not yet valid, incomplete chain or refused by kube-apiserver,
3 could not connect.`)
    .argument('<endpoint>', 'HOST:PORT or https://HOST:PORT')
    .addOption(rootOption())
    .addOption(nowOption())
    .addOption(tlsOptions()[0]!)
    .addOption(tlsOptions()[1]!)
    .addOption(new Option('-o, --output <format>', 'text or json').default('text').choices(['text', 'json']))
    .action(async (endpoint: string, o: ProbeOptions) => {
      const now = resolveNow(o.now);
      const ep = parseEndpoint(endpoint);
      // (the tree before the handshake: a --root that is not there is said as such, not after "connection refused")
      const node = openNode(o);
      const res = await probeEndpoint(ep.host, ep.port, { servername: o.servername, timeoutMs: timeoutMs(o.timeout) });
      const endpointName = formatHostPort(ep);
      const served = servedInventory(res.chain, endpointName, now);
      const disk = readInventory({ fs: node, now });
      const cmp = compareServed(res.chain[0]!, disk, ep);
      attachDiskSigners(served, disk, cmp);
      const incomplete = missingIntermediate(res.chain, disk);
      if (o.output === 'json') {
        io.stdout(JSON.stringify({ apiVersion: 'kubepki.io/v1alpha1', kind: 'ProbeResult', endpoint: endpointName, protocol: res.protocol, cipher: res.cipher, ...(res.handshakeError ? { handshakeError: res.handshakeError } : {}), chain: served.certificates, comparison: { verdict: cmp.verdict, message: cmp.message, served: cmp.served, disk: cmp.disk ? { name: cmp.disk.name, file: cmp.disk.location.file, serial: cmp.disk.serial, notAfter: cmp.disk.notAfter } : undefined }, ...(incomplete ? { incompleteChain: incomplete } : {}) }, null, 2) + '\n');
      } else {
        io.stdout(res.handshakeError
          ? `${endpointName} sent ${res.chain.length} certificate(s) over ${res.protocol ?? 'TLS'}, then ${res.handshakeError}: most likely it wants a client certificate\n\n`
          : `${endpointName} serves ${res.chain.length} certificate(s) over ${res.protocol ?? 'TLS'} (${res.cipher ?? '?'})\n\n`);
        io.stdout(renderInventoryShort(served));
        io.stdout(`\n${cmp.message}\n`);
        // how, as renew and restore say it: deleting a static pod does not restart its container (seed 002)
        if (cmp.verdict === 'stale' && cmp.disk) {
          const { restartsForFiles } = await import('../plan/renew.js');
          const { readNodeEtcdCluster } = await import('../rebuild/etcd-members.js');
          for (const r of restartsForFiles(disk, [cmp.disk.location.via ?? cmp.disk.location.file], () => readNodeEtcdCluster(node))) {
            io.stdout(`  ${r.component}: ${r.command}\n${r.caution ? `    (${r.caution})\n` : ''}`);
          }
        }
        if (incomplete) io.stdout(`${incomplete.message}\n`);
      }
      // a leaf that starts in the future fails every client's handshake as an expired one does (x509: certificate has
      // expired or is not yet valid, Go's crypto/x509 says of both)
      const leafStatus = served.certificates[0]?.status;
      const unusable = leafStatus === 'expired' || leafStatus === 'not-yet-valid';
      io.exitCode = cmp.verdict === 'stale' || cmp.verdict === 'untrusted' || unusable || incomplete ? 2 : cmp.verdict === 'not-on-disk' ? 1 : 0;
    });
}
