/**
 * App ids are Marathon's path ids: `/shop/web`, names separated by `/`.
 *
 *   "web" (in group /shop) ──resolveAppId──▶ {id: "/shop/web"}
 *   "../db" (in group /shop/web's parent)   ──▶ {id: "/db"}
 *   "/../x"                                 ──▶ {error: "… climbs above the root"}
 *
 * A name is lowercase letters, digits and `-`, neither starting nor ending
 * with `-`; dots join such names (`web.v2`), as Marathon's PathId allows.
 * A relative id is resolved against a base group (`/` unless told), `..`
 * climbs one level, and climbing above the root is refused rather than
 * silently clamped. Pure.
 */

/** One segment of a path id, as Marathon's `PathId` pattern spells it. */
const NAME = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;

/** Far above any real id; keeps ids usable in store keys and task ids. */
export const MAX_APP_ID_LENGTH = 512;

/**
 * The absolute, canonical form of `id` (no trailing `/`, no `..`), resolved
 * against the group `base`, or the reason it is not a valid app id.
 */
export function resolveAppId(id: string, base = '/'): { id: string } | { error: string } {
  const r = resolvePath(id, base);
  if ('error' in r) return r;
  if (r.id === '/') return { error: `${JSON.stringify(id)} names the root group, not an app` };
  return r;
}

/** As `resolveAppId`, for a group: the root group (`/`) is one. */
export function resolveGroupId(id: string, base = '/'): { id: string } | { error: string } {
  return resolvePath(id, base);
}

function resolvePath(id: string, base: string): { id: string } | { error: string } {
  if (id.length > MAX_APP_ID_LENGTH) return { error: `is ${id.length} characters; the limit is ${MAX_APP_ID_LENGTH}` };
  const start = id.startsWith('/') ? [] : base.split('/').filter(Boolean);
  const parts = [...start];
  for (const segment of id.split('/')) {
    if (segment === '') continue;
    if (segment === '..') {
      if (parts.length === 0) return { error: `${JSON.stringify(id)} climbs above the root group` };
      parts.pop();
      continue;
    }
    if (!NAME.test(segment)) {
      return {
        error: `${JSON.stringify(segment.slice(0, 64))} is not a valid name: use lowercase letters, digits and '-' (not first or last), names joined by '.' or '/'`,
      };
    }
    parts.push(segment);
  }
  return { id: `/${parts.join('/')}` };
}

/** The group an absolute app id sits in: `/shop/web` → `/shop`, `/web` → `/`. */
export function parentGroup(id: string): string {
  const cut = id.lastIndexOf('/');
  return cut <= 0 ? '/' : id.slice(0, cut);
}
