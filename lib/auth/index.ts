/**
 * Authentication, authorization and transport security, shared by the
 * master, the agents, the CLI, the SDK and the frameworks' HTTP APIs.
 */
export * from './credentials';
export * from './caller';
export * from './acls';
export * from './transport';
export * from './client-security';
