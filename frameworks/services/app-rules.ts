/**
 * The rules of an app that a schema cannot say: cmd xor args, unique ports,
 * health and readiness checks that address a port, constraints the SDK
 * accepts, valid ids, Marathon's single-instance label. Each error is placed
 * at the JSON path it concerns. Runs on a body the schema has accepted.
 */
import { constraintErrors } from './app-constraints';
import { parentGroup, resolveAppId } from './app-id';
import { UNSUPPORTED, type AppUpdateInput, type FieldErrors, type PortDefinitionSpec } from './app-schema';

/** JSON pointer escaping of one path segment. */
export function escape(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The rules a schema cannot say, each error at the path it concerns. */
export function rules(app: AppUpdateInput, opts: { partial?: boolean; base?: string }): FieldErrors[] {
  const errors: FieldErrors[] = [];
  const fail = (path: string, why: string) => errors.push({ path, errors: [why] });
  const base = opts.base ?? '/';

  if (app.cmd !== undefined && app.args?.length) fail('/', 'give cmd or args, not both');
  else if (!opts.partial && app.cmd === undefined && !app.args?.length) fail('/', 'give cmd or args: Mezzanine runs a command (containers are not supported)');

  const id = app.id === undefined ? undefined : resolveAppId(app.id, base);
  if (id && 'error' in id) fail('/id', id.error);
  const group = id && 'id' in id ? parentGroup(id.id) : base;
  app.dependencies?.forEach((d, i) => {
    const r = resolveAppId(d, group);
    if ('error' in r) fail(`/dependencies/${i}`, r.error);
    else if (id && 'id' in id && r.id === id.id) fail(`/dependencies/${i}`, 'an app cannot depend on itself');
  });

  for (const [name, value] of Object.entries(app.env ?? {})) {
    if (typeof value !== 'string') fail(`/env/${escape(name)}`, `not supported: ${UNSUPPORTED.secrets}`);
  }
  if (app.uris?.length && app.fetch?.length) fail('/uris', 'give fetch or the deprecated uris, not both');
  if (app.ports && app.portDefinitions) fail('/ports', 'give portDefinitions or the deprecated ports, not both');

  if (app.acceptedResourceRoles?.length === 0) fail('/acceptedResourceRoles', "give at least one role ('*' for unreserved resources), or leave it out to accept any");
  constraintErrors(app.constraints ?? []).forEach((why, i) => fail(`/constraints/${i}`, why));
  // Rules that read several fields wait, in an update, for the merged app (mergeApp parses it whole):
  // a health check's portIndex in an update may address ports that only the stored app has.
  if (!opts.partial) {
    const ports = portList(app);
    portRules(ports, app.ports ? '/ports' : '/portDefinitions', fail);
    if (app.requirePorts) requirePortsRules(app, ports, fail);
    roleRules(app, fail);
    healthCheckRules(app, ports, fail);
    readinessRules(app, ports, fail);
    checkRules(app, ports, fail);
    if (app.labels?.MARATHON_SINGLE_INSTANCE_APP === 'true') singleInstanceRules(app, fail);
  }

  if (typeof app.unreachableStrategy === 'object') {
    const { inactiveAfterSeconds = 0, expungeAfterSeconds = 0 } = app.unreachableStrategy;
    if (inactiveAfterSeconds > expungeAfterSeconds) fail('/unreachableStrategy', 'inactiveAfterSeconds must be at most expungeAfterSeconds');
  }
  if (app.version !== undefined) {
    if (!opts.partial) fail('/version', 'is set by the framework; give it only in an update, to roll back to that version');
    else if (Object.keys(app).some((k) => k !== 'version' && k !== 'id')) fail('/version', 'may only be combined with id: an update with version is a rollback');
  }
  return errors;
}

type Fail = (path: string, why: string) => void;

/** The app's ports as port definitions, from `portDefinitions`, the deprecated `ports`, or Marathon's default. */
export function portList(app: AppUpdateInput): PortDefinitionSpec[] {
  if (app.portDefinitions) {
    return app.portDefinitions.map((p) => ({ port: p.port ?? 0, protocol: p.protocol ?? 'tcp', ...(p.name !== undefined && { name: p.name }), labels: p.labels ?? {} }));
  }
  if (app.ports) return app.ports.map((port) => ({ port, protocol: 'tcp', labels: {} }));
  // Marathon's default for host networking when no ports are given at all.
  return [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }];
}

function portRules(ports: PortDefinitionSpec[], at: string, fail: Fail): void {
  const names = new Set<string>();
  const numbers = new Set<number>();
  ports.forEach((p, i) => {
    if (p.name !== undefined) {
      if (names.has(p.name)) fail(`${at}/${i}/name`, `port name ${p.name} is used twice; names must be unique`);
      names.add(p.name);
    }
    if (p.port !== 0) {
      if (numbers.has(p.port)) fail(`${at}/${i}/port`, `port ${p.port} is used twice; ports other than 0 must be unique`);
      numbers.add(p.port);
    }
  });
}

/** requirePorts makes each port the task's host port, so none may be 0 (any port). Marathon refuses it too. */
function requirePortsRules(app: AppUpdateInput, ports: PortDefinitionSpec[], fail: Fail): void {
  if (!app.ports && !app.portDefinitions) {
    fail('/requirePorts', 'requirePorts is true but no ports are given, so the app has the default port 0 (any port): give portDefinitions with port numbers');
    return;
  }
  const at = app.ports ? '/ports' : '/portDefinitions';
  ports.forEach((p, i) => {
    if (p.port === 0) fail(`${at}/${i}/port`, 'requirePorts is true, so this port is the host port the task must get: give a port number, not 0 (any port)');
  });
}

/**
 * Marathon: acceptedResourceRoles may name only `*` and the app's role. Left
 * out, the role is the framework's `--role`, which the parser does not know:
 * an entry naming another role then only makes the app wait (reason `role`).
 */
function roleRules(app: AppUpdateInput, fail: Fail): void {
  if (app.role === undefined) return;
  app.acceptedResourceRoles?.forEach((r, i) => {
    if (r !== '*' && r !== app.role) fail(`/acceptedResourceRoles/${i}`, `acceptedResourceRoles can only contain * and the app's role ${app.role}; got ${r}`);
  });
}

export const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS']);

function healthCheckRules(app: AppUpdateInput, ports: PortDefinitionSpec[], fail: Fail): void {
  let mesosChecks = 0;
  app.healthChecks?.forEach((hc, i) => {
    const at = `/healthChecks/${i}`;
    const protocol = hc.protocol ?? 'HTTP';
    if (protocol === 'COMMAND' && !hc.command) fail(`${at}/command`, 'a COMMAND health check needs command {value}');
    if (protocol !== 'COMMAND' && hc.command) fail(`${at}/command`, `only COMMAND health checks take a command; this one is ${protocol}`);
    if (hc.path !== undefined && !HTTP_PROTOCOLS.has(protocol)) fail(`${at}/path`, `only HTTP health checks take a path; this one is ${protocol}`);
    if (hc.port !== undefined && hc.portIndex !== undefined) fail(at, 'give port or portIndex, not both');
    if (protocol !== 'COMMAND' && hc.port === undefined && (hc.portIndex ?? 0) >= ports.length) {
      fail(`${at}/portIndex`, `port index ${hc.portIndex ?? 0} does not address one of the app's ${ports.length} ports`);
    }
    if (hc.ipProtocol === 'IPv6') fail(`${at}/ipProtocol`, 'not supported: IPv6 health checks need container networking');
    if (protocol.startsWith('MESOS_')) mesosChecks++;
  });
  // Marathon's rule: at most one MESOS_* check (COMMAND checks were never counted).
  if (mesosChecks > 1) fail('/healthChecks', 'at most one MESOS_HTTP, MESOS_HTTPS or MESOS_TCP health check per app');
}

function readinessRules(app: AppUpdateInput, ports: PortDefinitionSpec[], fail: Fail): void {
  app.readinessChecks?.forEach((rc, i) => {
    const at = `/readinessChecks/${i}`;
    const portName = rc.portName ?? 'http-api';
    if (!ports.some((p) => p.name === portName)) fail(`${at}/portName`, `no port definition is named ${portName}`);
    if ((rc.timeoutSeconds ?? 10) >= (rc.intervalSeconds ?? 30)) fail(`${at}/timeoutSeconds`, 'must be less than intervalSeconds');
  });
}

function checkRules(app: AppUpdateInput, ports: PortDefinitionSpec[], fail: Fail): void {
  const c = app.check;
  if (!c) return;
  const kinds = (['http', 'tcp', 'exec'] as const).filter((k) => c[k] !== undefined);
  if (kinds.length !== 1) fail('/check', `give exactly one of http, tcp and exec; got ${kinds.length ? kinds.join(', ') : 'none'}`);
  for (const kind of ['http', 'tcp'] as const) {
    const ref = c[kind];
    if (!ref) continue;
    if (ref.port !== undefined && ref.portIndex !== undefined) fail(`/check/${kind}`, 'give port or portIndex, not both');
    if (ref.port === undefined && (ref.portIndex ?? 0) >= ports.length) {
      fail(`/check/${kind}/portIndex`, `port index ${ref.portIndex ?? 0} does not address one of the app's ${ports.length} ports`);
    }
  }
}

/** Marathon's MARATHON_SINGLE_INSTANCE_APP label: never two instances, not even during an upgrade. */
function singleInstanceRules(app: AppUpdateInput, fail: Fail): void {
  if ((app.instances ?? 1) > 1) fail('/instances', 'an app labelled MARATHON_SINGLE_INSTANCE_APP=true runs at most 1 instance');
  const u = app.upgradeStrategy;
  if (u?.minimumHealthCapacity !== 0 || u?.maximumOverCapacity !== 0) {
    fail('/upgradeStrategy', 'an app labelled MARATHON_SINGLE_INSTANCE_APP=true needs minimumHealthCapacity 0 and maximumOverCapacity 0');
  }
}

