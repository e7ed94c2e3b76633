/** host:port lists, as given to --master and MEZZ_MASTER. */

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(text: string, defaultPort = 5050): HostPort {
  const t = text.trim().replace(/^[a-z]+:\/\//, '');
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new Error(`bad address "${text}": write HOST:PORT, e.g. 127.0.0.1:5050`);
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (port < 1 || port > 65535) throw new Error(`bad port in "${text}": must be 1-65535`);
  return { host: m[1]!, port };
}

/** `a:5050,b:5050` → ['a:5050', 'b:5050'] (normalised). */
export function parseMasterList(text: string, defaultPort = 5050): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const hp = parseHostPort(s, defaultPort);
    return `${hp.host}:${hp.port}`;
  });
  if (!list.length) throw new Error('no master address given: write HOST:PORT[,HOST:PORT...]');
  return list;
}
