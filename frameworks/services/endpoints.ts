/**
 * The service proxy kept to the scheduler's tasks: each round, every
 * service port of every app forwards to that app's tasks that are up
 * (running, healthy, ready) on the matching host port; a task about to be
 * killed leaves the backends and drains first (the proxy's drain contract,
 * README). A service port that cannot be bound is logged once and retried
 * each round; it never stops the scheduler.
 */
import type { Logger } from '../../lib/log';
import type { App } from './app-schema';
import type { ServiceTask } from './app-store';
import type { Endpoints } from './scheduler';
import { ServiceProxy, type ProxyBackend } from './service-proxy';

export class ProxyEndpoints implements Endpoints {
  /** Service port → its backends as last set. */
  #sets = new Map<number, ProxyBackend[]>();
  /** Service ports whose bind failed, with the error last logged. */
  #failed = new Map<number, string>();

  constructor(readonly proxy: ServiceProxy, private readonly log: Logger) {}

  update(apps: readonly App[], tasks: readonly { task: ServiceTask; up: boolean }[]): void {
    const wanted = new Map<number, ProxyBackend[]>();
    // An app with requirePorts runs on its service ports itself: a listener here would take the port from its task on this host.
    for (const app of apps.filter((a) => !a.requirePorts)) {
      const up = tasks.filter((t) => t.up && t.task.group === app.id).map((t) => t.task);
      app.portDefinitions.forEach((p, i) => {
        if (!p.port) return;
        wanted.set(p.port, up.flatMap((t) => (t.ports?.[i] && t.hostname ? [{ id: t.taskId, host: t.hostname, port: t.ports[i] }] : [])));
      });
    }
    for (const port of this.#sets.keys()) if (!wanted.has(port)) this.#remove(port);
    for (const [port, backends] of wanted) this.#set(port, backends);
  }

  async drain(task: ServiceTask): Promise<void> {
    for (const [port, backends] of this.#sets) {
      if (backends.some((b) => b.id === task.taskId)) this.#set(port, backends.filter((b) => b.id !== task.taskId));
    }
    await this.proxy.drained(task.taskId);
  }

  /** Closes every listener (this instance stopped leading, or stops). */
  async clear(): Promise<void> {
    this.#sets.clear();
    this.#failed.clear();
    await this.proxy.close();
  }

  #set(port: number, backends: ProxyBackend[]): void {
    const before = this.#sets.get(port);
    if (before && !this.#failed.has(port) && JSON.stringify(before) === JSON.stringify(backends)) return;
    this.#sets.set(port, backends);
    this.proxy.setBackends(port, backends).then(
      () => {
        if (this.#failed.delete(port)) this.log.info(`service port ${port}: listening now`);
      },
      (err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        if (this.#failed.get(port) !== why) this.log.warn(`service port ${port}: the proxy cannot serve it: ${why}`);
        this.#failed.set(port, why);
      },
    );
  }

  #remove(port: number): void {
    this.#sets.delete(port);
    this.#failed.delete(port);
    void this.proxy.removeServicePort(port);
  }
}
