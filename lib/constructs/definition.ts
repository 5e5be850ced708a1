/**
 * Reading the plain-data system definition (`lib/system.ts`) from the construct code: typed
 * iteration over its records, and the construct ids derived from its names. Every construct id
 * below `ChannelFlows` that comes from the definition goes through {@link pascal}, so that renaming
 * this helper's output renames (and so replaces) deployed resources: change it only on purpose.
 */

/** `Object.entries` that keeps the record's key type. */
export function entries<K extends string, V>(record: Readonly<Record<K, V>>): Array<[K, V]> {
  return Object.entries(record) as Array<[K, V]>;
}

/** `rest-api` / `restApi` / `default_4xx` → `RestApi` / `Default4xx`. */
export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
