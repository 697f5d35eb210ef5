/**
 * What the images of one run share: bearer tokens (keyed by realm, scope and identity),
 * the credential chosen for each registry, and the warnings already shown — so a set
 * of twenty images resolves credentials and warns about a refusal once per registry
 * and credential source, not twenty times.
 */
import type { Credential } from "../credentials/credential.js";
import { emit, type PullEvent, type PullEventListener } from "../events.js";
import { RegistryShare } from "../registry/registry-share.js";
import { TokenCache } from "../registry/token-cache.js";

/** The labels every event of one set item carries. */
export interface ItemLabels {
  /** The image as the set names it (canonical reference). */
  readonly image: string;
  /** The daemon host it goes to, where there are several. */
  readonly host?: string | undefined;
}

/**
 * One per run of a set; hand it to every item's pull.
 *
 * @example
 * const run = new SharedRun();
 * const credential = await run.credentialFor(ref.registry, () => chooseCredential(ref.registry, options));
 * const onEvent = run.listenerFor(options.onEvent, { image: ref.toString() });
 */
export class SharedRun {
  /** Tokens for every registry client of the run; keys hold the identity, so sharing is safe. */
  readonly tokens = new TokenCache();
  /** Kept-alive registry connections and ping answers for every registry client of the run; closed by `close()`. */
  readonly registries = new RegistryShare();
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();
  readonly #refusalsShown = new Set<string>();
  readonly #refusals = new Map<string, Promise<boolean> | undefined>();

  /** The credential for `registry`, chosen once per run (a broken source fails every image of that registry alike). */
  credentialFor(registry: string, choose: () => Promise<Credential | undefined>): Promise<Credential | undefined> {
    let chosen = this.#credentials.get(registry);
    if (!chosen) {
      chosen = choose();
      this.#credentials.set(registry, chosen);
    }
    return chosen;
  }

  /** Note that `registry` refused the credential from `source` for one image of the run. */
  noteRefusal(registry: string, source: string): void {
    const key = JSON.stringify([registry, source]);
    if (!this.#refusals.has(key)) this.#refusals.set(key, undefined);
  }

  /**
   * Whether a credential `registry` refused earlier in the run is wrong outright, so later images
   * need not try it: asked once per registry and source (`check`), and only after a refusal.
   */
  async refusedOutright(registry: string, source: string, check: () => Promise<boolean>): Promise<boolean> {
    const key = JSON.stringify([registry, source]);
    if (!this.#refusals.has(key)) return false;
    let verdict = this.#refusals.get(key);
    if (!verdict) {
      verdict = check().catch(() => false);
      this.#refusals.set(key, verdict);
    }
    return verdict;
  }

  /**
   * A listener for one item: every event carries the item's image (and host); a refused-credential
   * warning reaches `outer` once per registry, credential source and host.
   */
  listenerFor(outer: PullEventListener | undefined, labels: ItemLabels): PullEventListener | undefined {
    if (!outer) return undefined;
    return (event: PullEvent) => {
      if (
        event.type === "warning" &&
        event.code === "credentials-refused" &&
        !this.#firstRefusal(event.registry, event.source, labels.host)
      )
        return;
      emit(outer, { ...event, image: event.image ?? labels.image, host: event.host ?? labels.host });
    };
  }

  #firstRefusal(registry: string | undefined, source: string | undefined, host: string | undefined): boolean {
    const key = JSON.stringify([registry, source, host]);
    if (this.#refusalsShown.has(key)) return false;
    this.#refusalsShown.add(key);
    return true;
  }

  /** The run is over: close the registry connections it kept alive. */
  close(): void {
    this.registries.close();
  }
}
