/**
 * The k3s/RKE2 `registries.yaml` model and a validating reader.
 *
 * The schema is the one k3s unmarshals (rancher/wharfie `registries.Registry`,
 * yaml tags): `mirrors.<host>.{endpoint[],rewrite{}}` and
 * `configs.<host>.{auth.{username,password,auth,identity_token},tls.{ca_file,cert_file,key_file,insecure_skip_verify}}`.
 * Reading returns `{ value, errors, warnings }`; callers decide whether to throw.
 * Messages name keys and lines, never values: the file holds passwords.
 */
import type { Document, LineCounter, Node, YAMLMap } from "yaml";
import { yaml } from "./yaml-lib.js";
import { checkText } from "../../validation/checks.js";

export interface MirrorConfig {
  readonly endpoint?: readonly string[];
  readonly rewrite?: Readonly<Record<string, string>>;
}

export interface AuthConfig {
  readonly username?: string;
  readonly password?: string;
  /** base64 of "username:password". */
  readonly auth?: string;
  readonly identity_token?: string;
}

export interface TlsConfig {
  readonly ca_file?: string;
  readonly cert_file?: string;
  readonly key_file?: string;
  readonly insecure_skip_verify?: boolean;
}

export interface HostConfig {
  readonly auth?: AuthConfig;
  readonly tls?: TlsConfig;
}

/**
 * The k3s/RKE2 registries.yaml model: mirrors and per-host configs.
 *
 * @example
 * const { value } = readRegistriesConfig(text);
 * console.log(Object.keys(value?.mirrors ?? {}));
 */
export interface RegistriesConfig {
  readonly mirrors: Readonly<Record<string, MirrorConfig>>;
  readonly configs: Readonly<Record<string, HostConfig>>;
}

/**
 * One problem in the file, with where it is (1-based) when known.
 *
 * @example
 * for (const e of readRegistriesConfig(text).errors) console.error(`${e.line ?? "?"}:${e.column ?? "?"} ${e.message}`);
 */
export interface ConfigIssue {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * A validated registries.yaml: the model when there are no errors, and every issue with its position.
 *
 * @example
 * const { value, errors, warnings } = readRegistriesConfig(text);
 */
export interface RegistriesConfigReadResult {
  /** The model, when the file has no errors. */
  readonly value: RegistriesConfig | undefined;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/** @internal What the writer needs beyond the model: the document itself, so comments and other hosts survive (not in the published declarations: it exposes yaml's Document). */
export interface ParsedRegistriesConfig extends RegistriesConfigReadResult {
  readonly document: Document;
}

const AUTH_KEYS = ["username", "password", "auth", "identity_token"] as const;
/** Keys people write that k3s silently ignores, and what they meant. */
const MISTAKEN_AUTH_KEYS: Readonly<Record<string, string>> = { identitytoken: "identity_token", token: "identity_token" };

/**
 * Validate the text of a registries.yaml.
 *
 * @example
 * const { value, errors } = readRegistriesConfig("mirrors:\n  docker.io:\n    endpoint: [\"https://mirror.example\"]\n");
 * // errors: [], value.mirrors["docker.io"].endpoint → ["https://mirror.example"]
 */
export function readRegistriesConfig(text: string): RegistriesConfigReadResult {
  checkText(text, "readRegistriesConfig: text", { nonEmpty: false, max: 1 << 20 });
  const { value, errors, warnings } = parseRegistriesConfig(text);
  return { value, errors, warnings };
}

/** @internal Parse and validate, keeping the YAML document for an in-place edit. */
export function parseRegistriesConfig(text: string): ParsedRegistriesConfig {
  const lineCounter = new (yaml().LineCounter)();
  const document = yaml().parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const checker = new Checker(lineCounter);
  for (const error of document.errors) {
    const at = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
    // Only the code and position: the parser's own message quotes the source, which may hold a password.
    const message = error.code === "DUPLICATE_KEY" ? "duplicate key" : `not valid YAML (${error.code})`;
    checker.errors.push(at ? { message, line: at.line, column: at.col } : { message });
  }
  if (checker.errors.length > 0) return { document, value: undefined, errors: checker.errors, warnings: checker.warnings };
  const value = checker.root(document.contents);
  return { document, value: checker.errors.length > 0 ? undefined : value, errors: checker.errors, warnings: checker.warnings };
}

/** An issue as one line of text: "line 3, column 5: mirrors.docker.io.endpoint must be a list". */
export function formatIssue(issue: ConfigIssue): string {
  return issue.line === undefined ? issue.message : `line ${issue.line}, column ${issue.column ?? 1}: ${issue.message}`;
}

class Checker {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  /** The key being visited: where an issue points when its value has no position (`key:` alone). */
  private currentKey: Node | undefined;
  constructor(private readonly lines: LineCounter) {}

  root(node: Node | null): RegistriesConfig {
    if (node === null || (yaml().isScalar(node) && node.value === null)) return { mirrors: {}, configs: {} };
    const map = this.map(node, "the file");
    if (!map) return { mirrors: {}, configs: {} };
    let mirrors: Record<string, MirrorConfig> = {};
    let configs: Record<string, HostConfig> = {};
    this.entries(map, "", (key, value) => {
      if (key === "mirrors") mirrors = this.hosts(value, "mirrors", (v, p) => this.mirror(v, p));
      else if (key === "configs") configs = this.hosts(value, "configs", (v, p) => this.hostConfig(v, p));
      else this.warn(value, `unknown key "${key}" (k3s ignores it)`);
    });
    return { mirrors, configs };
  }

  hosts<T>(node: Node | null, path: string, each: (value: Node | null, path: string) => T): Record<string, T> {
    const result: Record<string, T> = {};
    if (node === null || (yaml().isScalar(node) && node.value === null)) return result;
    const map = this.map(node, path);
    if (map) this.entries(map, path, (host, value) => (result[host] = each(value, `${path}.${host}`)));
    return result;
  }

  mirror(node: Node | null, path: string): MirrorConfig {
    const map = this.map(node, path);
    const mirror: { endpoint?: string[]; rewrite?: Record<string, string> } = {};
    if (!map) return mirror;
    this.entries(map, path, (key, value) => {
      if (key === "endpoint") mirror.endpoint = this.endpoints(value, `${path}.endpoint`);
      else if (key === "rewrite") mirror.rewrite = this.stringMap(value, `${path}.rewrite`);
      else this.warn(value, `unknown key "${key}" in ${path} (k3s ignores it)`);
    });
    return mirror;
  }

  endpoints(node: Node | null, path: string): string[] {
    if (!yaml().isSeq(node)) return this.fail(node, `${path} must be a list of URLs`, []);
    return node.items.flatMap((item) => {
      const url = this.string(item as Node | null, `${path} entry`);
      if (url === undefined) return [];
      if (!/^https?:\/\/[^/]/i.test(url)) this.fail(item as Node, `${path} entry must be an http:// or https:// URL`, undefined);
      return [url];
    });
  }

  hostConfig(node: Node | null, path: string): HostConfig {
    const map = this.map(node, path);
    const config: { auth?: AuthConfig; tls?: TlsConfig } = {};
    if (!map) return config;
    this.entries(map, path, (key, value) => {
      if (key === "auth") config.auth = this.auth(value, `${path}.auth`);
      else if (key === "tls") config.tls = this.tls(value, `${path}.tls`);
      else this.warn(value, `unknown key "${key}" in ${path} (k3s ignores it)`);
    });
    return config;
  }

  auth(node: Node | null, path: string): AuthConfig {
    const map = this.map(node, path);
    const auth: Record<string, string> = {};
    if (!map) return auth;
    this.entries(map, path, (key, value) => {
      const meant = MISTAKEN_AUTH_KEYS[key];
      if ((AUTH_KEYS as readonly string[]).includes(key)) {
        const text = this.string(value, `${path}.${key}`);
        if (text !== undefined) auth[key] = text;
      } else if (meant !== undefined) this.warn(value, `${path}.${key} is ignored by k3s; the key it reads is "${meant}"`);
      else this.warn(value, `unknown key "${key}" in ${path} (k3s ignores it)`);
    });
    return auth;
  }

  tls(node: Node | null, path: string): TlsConfig {
    const map = this.map(node, path);
    const tls: Record<string, string | boolean> = {};
    if (!map) return tls;
    this.entries(map, path, (key, value) => {
      if (key === "insecure_skip_verify") {
        const flag = this.boolean(value);
        if (flag !== undefined) tls[key] = flag;
        else this.fail(value, `${path}.${key} must be true or false`, undefined);
      } else if (key === "ca_file" || key === "cert_file" || key === "key_file") {
        const text = this.string(value, `${path}.${key}`);
        if (text !== undefined) tls[key] = text;
      } else this.warn(value, `unknown key "${key}" in ${path} (k3s ignores it)`);
    });
    return tls;
  }

  stringMap(node: Node | null, path: string): Record<string, string> {
    const result: Record<string, string> = {};
    const map = this.map(node, path);
    if (map) {
      this.entries(map, path, (key, value) => {
        const text = this.string(value, `${path}[${JSON.stringify(key)}]`);
        if (text !== undefined) result[key] = text;
      });
    }
    return result;
  }

  /** Visit a map's entries with string keys; other keys are errors. */
  entries(map: YAMLMap, path: string, visit: (key: string, value: Node | null) => void): void {
    for (const pair of map.items) {
      const key = pair.key as Node | null;
      if (!yaml().isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
        this.fail(key, `${path || "the file"} has a key that is not a string`, undefined);
        continue;
      }
      this.currentKey = key;
      visit(String(key.value), pair.value as Node | null);
    }
  }

  /** A mapping; an empty value (`docker.io:`) is an empty mapping, as Go's YAML reads it. */
  map(node: Node | null, path: string): YAMLMap | undefined {
    if (yaml().isMap(node)) return node;
    if (node === null || (yaml().isScalar(node) && node.value === null)) return undefined;
    return this.fail(node, `${path} must be a mapping`, undefined);
  }

  /** A scalar as k3s's Go YAML reads it into a string: as written (`0123` stays "0123"); empty is absent. */
  string(node: Node | null, path: string): string | undefined {
    if (yaml().isScalar(node)) {
      if (node.value === null) return undefined;
      if (typeof node.value === "string") return node.value;
      if (typeof node.value === "number" || typeof node.value === "boolean") return node.source ?? String(node.value);
    }
    return this.fail(node, `${path} must be a string`, undefined);
  }

  /** YAML 1.1 booleans, as Go's yaml.v2 accepts them. */
  boolean(node: Node | null): boolean | undefined {
    if (!yaml().isScalar(node)) return undefined;
    if (typeof node.value === "boolean") return node.value;
    const text = typeof node.value === "string" && node.type === "PLAIN" ? node.value : "";
    if (/^(y|Y|yes|Yes|YES|on|On|ON)$/.test(text)) return true;
    if (/^(n|N|no|No|NO|off|Off|OFF)$/.test(text)) return false;
    return undefined;
  }

  fail<T>(node: Node | null | undefined, message: string, result: T): T {
    this.errors.push(this.at(node, message));
    return result;
  }

  warn(node: Node | null | undefined, message: string): void {
    this.warnings.push(this.at(node, message));
  }

  at(node: Node | null | undefined, message: string): ConfigIssue {
    const offset = node?.range?.[0] ?? this.currentKey?.range?.[0];
    if (offset === undefined) return { message };
    const { line, col } = this.lines.linePos(offset);
    return { message, line, column: col };
  }
}
