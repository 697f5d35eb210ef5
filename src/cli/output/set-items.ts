/**
 * The image × host pairs of a set as the CLI shows them: a label per pair, and which
 * pair a library event belongs to (events carry the image and, on remote daemons, the host).
 */
import type { PullEvent } from "../../events.js";

/** One image on one host (host undefined: the local daemon or a daemonless destination). */
export interface SetItemKey {
  /** The canonical reference, as events and results name it. */
  readonly image: string;
  readonly host: string | undefined;
  /** What the user wrote, and where: "nginx:1.27 on ssh://build-1". */
  readonly label: string;
}

/**
 * @example
 * const index = new SetItemIndex([{ canonical: "docker.io/library/nginx:1.27", given: "nginx:1.27" }], ["ssh://a", "ssh://b"]);
 * index.itemOf(event)?.label // → "nginx:1.27 on ssh://a"
 */
export class SetItemIndex {
  /** Host-major, as pullRemoteImages orders its results. */
  readonly items: readonly SetItemKey[];
  readonly #byKey = new Map<string, SetItemKey>();
  readonly #hosts: readonly (string | undefined)[];

  constructor(images: readonly { readonly canonical: string; readonly given: string }[], hosts: readonly string[]) {
    this.#hosts = hosts.length === 0 ? [undefined] : hosts;
    this.items = this.#hosts.flatMap((host) =>
      images.map((image) => ({ image: image.canonical, host, label: host === undefined ? image.given : `${image.given} on ${host}` })),
    );
    for (const item of this.items) this.#byKey.set(key(item.image, item.host), item);
  }

  /** The pair an event belongs to, or undefined when it names no image of the set. */
  itemOf(event: PullEvent): SetItemKey | undefined {
    if (event.image === undefined) return undefined;
    return this.#byKey.get(key(event.image, this.#hostOf(event.host)));
  }

  /** The item of a result (image and host as the library reports them), or a new key for it. */
  keyOf(image: string, host: string | undefined, given?: string): SetItemKey {
    const known = this.#byKey.get(key(image, this.#hostOf(host)));
    return known ?? { image, host, label: host === undefined ? (given ?? image) : `${given ?? image} on ${host}` };
  }

  /**
   * A remote path may name the host as its connection does ("127.0.0.1" for ssh://root@127.0.0.1:2222):
   * the host given is found again when exactly one given host contains that name.
   */
  #hostOf(host: string | undefined): string | undefined {
    if (this.#hosts.length === 1) return this.#hosts[0];
    if (host === undefined || this.#hosts.includes(host)) return host;
    const candidates = this.#hosts.filter((given) => given?.includes(host));
    return candidates.length === 1 ? candidates[0] : host;
  }
}

function key(image: string, host: string | undefined): string {
  return JSON.stringify([image, host ?? null]);
}
