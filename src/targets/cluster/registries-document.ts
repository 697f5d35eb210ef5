/**
 * Editing a registries.yaml document in place: other hosts' entries, and the
 * comments around them, stay exactly as they were.
 *
 * Every value we write is double-quoted. k3s reads the file with Go's YAML 1.1
 * parser, where a plain `yes`, `0123` or `*x` means something else, and a
 * password may hold `:`, `#`, quotes or a line break; a double-quoted scalar
 * carries all of them exactly (line breaks as `\n`).
 */
import type { Document, Node, Scalar, YAMLMap } from "yaml";
import { yaml } from "./yaml-lib.js";

/** Schema words are left plain; hosts, patterns and values are quoted. */
const SCHEMA_KEY = /^[a-z_]+$/;

/** Set `section.<key>` to `value`, or remove it when `value` is undefined. */
export function setEntry(document: Document, section: "mirrors" | "configs", key: string, value: object | undefined): void {
  if (value === undefined) {
    const map = document.get(section);
    if (yaml().isMap(map)) map.delete(key);
    return;
  }
  const map = sectionMap(document, section);
  const node = document.createNode(value) as Node;
  quoteValues(node);
  const existing = map.items.find((pair) => yaml().isScalar(pair.key) && String(pair.key.value) === key);
  if (existing) existing.value = node;
  else map.add({ key: quoted(key), value: node });
}

/**
 * Update `configs.<key>`: `auth` set, kept as written, or removed; `tls` set when given,
 * else kept as written. The entry goes when nothing is left in it.
 */
export function setHostConfig(document: Document, key: string, auth: object | "keep" | undefined, tls: object | undefined): void {
  const configs = document.get("configs");
  const pair = yaml().isMap(configs)
    ? configs.items.find((item) => yaml().isScalar(item.key) && String(item.key.value) === key)
    : undefined;
  let entry = yaml().isMap(pair?.value) ? pair.value : undefined;
  if (!entry) {
    if ((auth === undefined || auth === "keep") && tls === undefined) {
      if (pair && yaml().isMap(configs)) configs.delete(key); // an empty `host:` entry
      return;
    }
    entry = new (yaml().YAMLMap)();
    if (pair) pair.value = entry;
    else sectionMap(document, "configs").add({ key: quoted(key), value: entry });
  }
  if (auth === undefined) entry.delete("auth");
  else if (auth !== "keep") entry.set("auth", quotedNode(document, auth));
  if (tls !== undefined) entry.set("tls", quotedNode(document, tls));
  if (entry.items.length === 0 && yaml().isMap(configs)) configs.delete(key);
}

/** True when the document holds nothing at all (it would render as `null`). */
export function isEmptyDocument(document: Document): boolean {
  const contents = document.contents;
  return (
    contents === null || (yaml().isMap(contents) && contents.items.length === 0) || (yaml().isScalar(contents) && contents.value === null)
  );
}

function quotedNode(document: Document, value: object): Node {
  const node = document.createNode(value) as Node;
  quoteValues(node);
  return node;
}

/** Drop a top-level section we left empty, so an untouched file does not grow `mirrors: {}`. */
export function dropEmptySections(document: Document): void {
  for (const section of ["mirrors", "configs"] as const) {
    const map = document.get(section);
    if (yaml().isMap(map) && map.items.length === 0) document.delete(section);
  }
}

/** The text to write. No line folding: a long secret stays on one line. */
export function renderDocument(document: Document): string {
  return document.toString({ lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false });
}

/** A copy whose auth values read `***`, for dry runs and anything shown to a person. */
export function redactedCopy(document: Document): Document {
  const copy = document.clone();
  const configs = copy.get("configs");
  if (!yaml().isMap(configs)) return copy;
  for (const pair of configs.items) {
    const auth = yaml().isMap(pair.value) ? pair.value.get("auth") : undefined;
    if (!yaml().isMap(auth)) continue;
    for (const entry of auth.items) {
      const name = yaml().isScalar(entry.key) ? String(entry.key.value) : "";
      if (name !== "username" && yaml().isScalar(entry.value) && entry.value.value !== null) entry.value = quoted("***");
    }
  }
  return copy;
}

/** `section` as a map, created (or replacing an empty `section:`) when missing. */
function sectionMap(document: Document, section: "mirrors" | "configs"): YAMLMap {
  if (!yaml().isMap(document.contents)) document.contents = new (yaml().YAMLMap)();
  const existing = document.get(section);
  if (yaml().isMap(existing)) return existing;
  const created = new (yaml().YAMLMap)();
  document.set(section, created);
  return created;
}

function quoteValues(node: Node): void {
  yaml().visit(node, {
    Scalar(key, scalar) {
      if (typeof scalar.value !== "string") return;
      if (key === "key" && SCHEMA_KEY.test(scalar.value)) return;
      scalar.type = yaml().Scalar.QUOTE_DOUBLE;
    },
  });
}

function quoted(value: string): Scalar {
  const scalar = new (yaml().Scalar)(value);
  scalar.type = yaml().Scalar.QUOTE_DOUBLE;
  return scalar;
}
