/**
 * The framework foundation: what the shipped frameworks (services, batch,
 * functions) share. Import it only through this file.
 */
export * from './reconciler/index';
