import * as nodeFs from 'node:fs';
import { Command, Option } from 'commander';
import * as os from 'node:os';
import type { Io } from './io.js';
import { UserError } from '../errors.js';
import { addEtcdMembers } from '../rebuild/etcd-members.js';
import { readInventory } from '../inventory/read.js';
import { parseDuration } from '../inventory/time.js';
import { parseListen, DEFAULT_LISTEN, formatHostPort } from '../server/listen.js';
import { startServer } from '../server/server.js';
import { parseProbeFlag, probeLocal, defaultEndpoints } from '../server/probe-local.js';
import { collect, addNodeReadOptions, nodeReadInputs, resolveNow, aliasOption, type NodeOptions } from './options.js';
import { VERSION } from './main.js';
import { layoutWatchDirs, watchDirOf } from '../layouts/detect.js';

interface ServeOptions extends NodeOptions {
  listen: string;
  interval: string;
  bearerTokenFile?: string;
  clientCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureNoAuth?: boolean;
  nodeName?: string;
  watch?: boolean;
  probe?: boolean;
  probeHost: string;
  probeEndpoint?: string[];
}

export function command(io: Io): Command {
  return addNodeReadOptions(new Command('serve'))
    .configureHelp({ helpWidth: 120 })
    .summary('serve /metrics, a live dashboard, /api/inventory and /healthz for this node')
    .description(`Read the node on an interval and whenever its certificate directories change, and serve
  /metrics         Prometheus text (x509_cert_not_after, x509_cert_expired, kubepki_findings, …)
  /                a dashboard: timeline, trust tree, findings, one panel per certificate
  /api/inventory   the same JSON as 'kubepki check -o json'
  /healthz         200 once the first read succeeded (no auth; for a readiness probe)
  /livez           200 while serve answers, read or not (no auth; for a liveness probe)
Read-only: serve never writes to the node.

Examples:
  kubepki serve                                        # http://127.0.0.1:9793/
  kubepki serve --root /host --listen 0.0.0.0:9793 --bearer-token-file /var/run/secrets/kubepki/token
  kubepki serve --listen 0.0.0.0:9793 --tls-cert tls.crt --tls-key tls.key --client-ca prometheus-ca.crt

Listening on anything but loopback needs --bearer-token-file, --client-ca, or --insecure-no-auth.

Exit codes:
  0  stopped by SIGTERM or SIGINT
  3+ kubepki could not start (a bad flag, the address in use, a TLS file that cannot be used)`)
    .addOption(new Option('--listen <host:port>', 'address to listen on').default(DEFAULT_LISTEN))
    .addOption(new Option('--interval <duration>', 'read the node this often (also on change)').default('60s'))
    .option('--bearer-token-file <file>', 'require the token in FILE (re-read on every refresh): "Authorization: Bearer <token>", or in a browser any user name with the token as the password')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate')
    .option('--tls-key <file>', 'key of --tls-cert')
    .option('--client-ca <file>', 'require a client certificate signed by a CA in FILE (needs --tls-cert/--tls-key)')
    .option('--insecure-no-auth', 'allow a non-loopback --listen without authentication')
    .option('--node-name <name>', 'the node label of every series (default: the node name found in the tree, then the host name)')
    .addOption(aliasOption('--node <name>', 'nodeName'))
    .option('--no-watch', 'do not watch the certificate directories; read on the interval only')
    .addOption(new Option('--probe-host <host>', 'probe the local components (kube-apiserver :6443, etcd :2379, kubelet :10250) on this address after each read').default('127.0.0.1'))
    .option('--probe-endpoint <component=host:port>', 'probe this endpoint instead of the defaults (repeatable)', collect)
    .option('--no-probe', 'do not probe local endpoints (no kubepki_served_cert_stale or kubepki_served_chain_incomplete series then; kubepki_served_cert_probed is 0)')
    .action(async (o: ServeOptions) => {
      const listen = parseListen(o.listen);
      const interval = parseDuration(o.interval);
      if (interval === undefined || interval < 1) throw new UserError(`--interval ${JSON.stringify(o.interval)} is not a duration of at least 1s`, 'use e.g. 60s, 5m or 1h');
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UserError('--tls-cert and --tls-key go together', 'pass both, or neither for plain HTTP');
      // (an empty --now is refused, as by every other command, not taken for the clock)
      const pinned = o.now !== undefined ? resolveNow(o.now) : undefined;
      const inputs = nodeReadInputs(o, io.cwd);
      const fs = inputs.fs;
      const endpoints = o.probeEndpoint?.map(parseProbeFlag);
      const server = await startServer({
        root: fs.root,
        listen,
        intervalSeconds: interval,
        read: (now) => {
          // A tree that vanished (unmounted disk, deleted directory) or suddenly holds nothing is a failed
          // read, not a healthy empty node: the last inventory stays and kubepki_read_errors says so.
          const inv = readInventory({ ...inputs, now });
          addEtcdMembers(inv, fs);
          if (!nodeFs.existsSync(fs.root)) throw new Error(`${fs.root} does not exist any more`);
          if (inv.certificates.length === 0 && inv.missing.length === 0 && inv.findings.length === 0) throw new Error(`no certificates found under ${fs.root}`);
          return inv;
        },
        now: pinned ? () => pinned : undefined,
        nodeName: o.nodeName ?? io.env.KUBEPKI_NODE_NAME ?? undefined,
        bearerTokenFile: o.bearerTokenFile,
        tls: o.tlsCert && o.tlsKey ? { certFile: o.tlsCert, keyFile: o.tlsKey, clientCaFile: o.clientCa } : undefined,
        insecureNoAuth: o.insecureNoAuth,
        watch: o.watch !== false,
        // (the detected layouts' directories, where k0s, MicroK8s, RKE or k3s write what they renew, and --path's,
        // --kubeconfig's: watched though nothing was found there yet)
        watchDirs: (inv) => [...layoutWatchDirs(fs, inv.layouts.filter((l) => l !== 'generic')),
          ...[...(inputs.paths ?? []), ...(inputs.kubeconfigs ?? [])].map((p) => watchDirOf(fs, p))],
        log: (line) => io.stderr(`${line}\n`),
        version: VERSION,
        probe: o.probe === false ? undefined : (inv) => probeLocal(inv, endpoints ?? defaultEndpoints(inv, o.probeHost)),
      });
      const st = server.state();
      io.stderr(`kubepki serve: ${st.inventory?.certificates.length ?? 0} certificates under ${fs.root}, listening on ${server.url} (node ${o.nodeName ?? io.env.KUBEPKI_NODE_NAME ?? st.inventory?.nodeName ?? os.hostname()}, every ${o.interval}${o.watch === false ? '' : ' and on change'})\n`);
      if (!listen.host.startsWith('127.') && listen.host !== '::1' && listen.host !== 'localhost') io.stderr(`kubepki serve: reachable from the network on ${formatHostPort(listen)}\n`);
      // Serve until SIGTERM/SIGINT (the DaemonSet's stop), then close cleanly.
      await new Promise<void>((resolve) => {
        const stop = () => { process.off('SIGTERM', stop); process.off('SIGINT', stop); void server.close().then(resolve); };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
