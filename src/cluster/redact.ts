/**
 * Keeping secrets out of what kubepki prints about a kubeconfig's exec credential plugin. Its `args` often
 * carry them (`--client-secret …`, `--password=…`, a token, a URL with a password in it), and an operator
 * pastes kubepki's output into a ticket. Redacting is by what a value looks like or what it is given to,
 * erring on hiding too much: a hidden cluster name costs a look at the kubeconfig, a shown secret a rotation.
 * (The exec config's `env` is never printed; its secret-looking values are redacted from what the plugin says.)
 */

export const REDACTED = '<redacted>';

/** A flag or key whose value is a secret: --client-secret, --password, --token, api_key, --credentials-file, --auth … */
const SECRET_NAME = /secret|pass|pwd|token|key|cred|auth|cookie|sig/i;

/** A word that looks like a secret by itself: a JWT, a long random string (base64, base64url, hex). */
function tokenLike(word: string): boolean {
  if (/^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(word)) return true;
  if (word.length < 20 || !/^[A-Za-z0-9+/=_.~-]+$/.test(word) || /^[/.~-]/.test(word)) return false;
  // (a UUID is an id: a tenant, a client, an Azure server app; not a secret)
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(word)) return false;
  if (/^[0-9a-f]{32,}$/i.test(word)) return true;
  return /[a-z]/.test(word) && /[A-Z]/.test(word) && /[0-9]/.test(word);
}

/** Secrets inside one word: a URL's user:password@, its query's token=/sig=/key= values, an `Authorization: Bearer …`. */
function redactInside(word: string): string {
  return word
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, `$1${REDACTED}@`)
    .replace(/([?&;][^=&\s#]*=)([^&\s#]+)/g, (all, key: string, value: string) => (SECRET_NAME.test(key) || tokenLike(value) ? `${key}${REDACTED}` : all))
    .replace(/\b(Bearer|Basic|Token)(\s+|:)\S+/gi, `$1$2${REDACTED}`);
}

/**
 * A word whose next word is a secret: a flag `--client-secret`, `--password` (not `--password=…`, which is one
 * word), or the scheme of an Authorization header, `Bearer …`.
 */
function secretFlag(word: string): boolean {
  // (-p: the short password flag of mysql-style and many login tools)
  return (/^--?[A-Za-z]/.test(word) && !word.includes('=') && SECRET_NAME.test(word)) || word === '-p' || /^(bearer|basic)$/i.test(word);
}

/**
 * The value after a secret-named key in what a plugin prints: `"client_secret": "…"` (JSON) and `client_secret: …`,
 * `x-api-key: …` (YAML, HTTP headers). (An `Authorization: Bearer …` keeps its scheme: the word after it goes.)
 */
function redactKeyValues(text: string): string {
  const name = '[^"\\s]*(?:secret|pass|pwd|token|key|cred|auth|cookie|sig)[^"\\s]*';
  return text
    .replace(new RegExp(`("${name}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${REDACTED}"`)
    .replace(/(^|[\s{,;])([\w.-]*(?:secret|pass|pwd|token|key|cred|auth|cookie|sig)[\w.-]*:[ \t]+)(?!<redacted>|(?:bearer|basic|token)\b)([^\s,;}]+)/gim, `$1$2${REDACTED}`);
}

function redactWord(word: string, afterSecretFlag: boolean): string {
  if (afterSecretFlag && !word.startsWith('-')) return REDACTED;
  // --flag=value, NAME=value
  const eq = /^(-{0,2}[A-Za-z_][\w.-]*)=([^]*)$/.exec(word);
  if (eq && (SECRET_NAME.test(eq[1]!) || tokenLike(eq[2]!))) return `${eq[1]}=${REDACTED}`;
  // (after that: base64 ends with `=`)
  if (tokenLike(word)) return REDACTED;
  return redactInside(word);
}

/** The words of a command line with every value that may be a secret replaced by `<redacted>`. */
export function redactArgs(words: readonly string[]): string[] {
  return words.map((w, i) => redactWord(w, i > 0 && secretFlag(words[i - 1]!)));
}

/** The values of an exec config's `env` that may be secrets: by their name (AWS_SECRET_ACCESS_KEY) or their look. */
export function secretEnvValues(env: readonly { name?: string; value?: string }[] | undefined): string[] {
  return (env ?? []).flatMap((e) => (typeof e.value === 'string' && e.value.length >= 4 && (SECRET_NAME.test(e.name ?? '') || tokenLike(e.value)) ? [e.value] : []));
}

/**
 * Free text (a plugin's error line) with the same words redacted, and any of `secrets` (what the plugin was given
 * in its env) wherever they appear; its spacing is kept.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  for (const v of secrets) text = text.split(v).join(REDACTED);
  text = redactKeyValues(text);
  const parts = text.split(/(\s+)/);
  let previous = '';
  return parts.map((p) => {
    if (p === '' || /^\s+$/.test(p)) return p;
    const out = redactWord(p, secretFlag(previous));
    previous = p;
    return out;
  }).join('');
}
