/**
 * Folder boundaries and no import cycles (`npm run lint`).
 * - lib/ is shared by everyone and imports no process folder.
 * - master/, agent/, cli/ and frameworks/ are separate processes: none
 *   imports another's code. Frameworks reach the master only through the SDK.
 * - Code outside a folder imports only its index.ts (its public surface),
 *   except the generated proto types under lib/proto/generated.
 */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Import cycles make start-up order and tests fragile.', from: {}, to: { circular: true } },
    { name: 'lib-is-a-leaf', severity: 'error', comment: 'lib/ is shared code; it must not depend on any process.', from: { path: '^lib/' }, to: { path: '^(master|agent|cli|frameworks|examples|bench|test)/' } },
    { name: 'master-stays-home', severity: 'error', from: { path: '^master/' }, to: { path: '^(agent|cli|frameworks|examples|bench)/' } },
    { name: 'agent-stays-home', severity: 'error', from: { path: '^agent/' }, to: { path: '^(master|cli|frameworks|examples|bench)/' } },
    { name: 'cli-uses-the-public-apis', severity: 'error', comment: 'But for the batch framework\'s pure helpers `mezz job` shows with: next cron ticks, the DAG as text.',
      from: { path: '^cli/' }, to: { path: '^(master|agent|frameworks/(?!sdk/index|batch/(cron|dag-text)\\.ts$))' } },
    { name: 'batch-helpers-stay-pure', severity: 'error', comment: 'The CLI imports these; they must not pull the foundation (fastify, etcd) or anything else of ours into it.',
      from: { path: '^frameworks/batch/(cron|dag-text)\\.ts$' }, to: { path: '^(lib|master|agent|cli|frameworks)/' } },
    { name: 'frameworks-use-the-sdk', severity: 'error', comment: 'Frameworks talk to the master only through the SDK, as an outside author would.', from: { path: '^(frameworks/(?!sdk/)|examples/)' }, to: { path: '^(master|agent|cli)/' } },
    { name: 'allocator-is-pure', severity: 'error', comment: 'The allocator is a pure function of a snapshot: no gRPC, no store, no clock of its own.', from: { path: '^master/allocator/' }, to: { path: '(^lib/(grpc|store|log)|node_modules/@grpc|node_modules/etcd3|^master/(?!allocator/))' } },
    { name: 'frameworks-stay-apart', severity: 'error', comment: 'A shipped framework uses the SDK, the foundation and lib/, never another framework.',
      from: { path: '^frameworks/(services|batch|functions)/' }, to: { path: '^frameworks/(?!sdk/|foundation/|$1/)' } },
    { name: 'foundation-serves-all', severity: 'error', comment: 'The foundation is shared by the shipped frameworks and depends on none of them.',
      from: { path: '^frameworks/foundation/' }, to: { path: '^frameworks/(services|batch|functions)/' } },
    // [folder, who may reach inside it]: the agent owns its executor; unit tests may test internals.
    ...[['master/allocator', 'master/allocator/'], ['agent/executor', 'agent/'], ['frameworks/sdk', 'frameworks/sdk/'], ['frameworks/foundation', 'frameworks/foundation/']].map(([dir, owner]) => ({
      name: `only-through-index:${dir}`, severity: 'error', comment: `Outside ${owner}, import ${dir} through its index.ts.`,
      from: { pathNot: `^(${owner}|test/)` }, to: { path: `^${dir}/(?!index\\.ts$)` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
