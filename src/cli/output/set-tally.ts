/**
 * Bytes per image × host of a set, from the layer events: what the progress lines
 * show and, on a daemon, the SIZE the summary reports.
 */
import type { PullEvent } from "../../events.js";
import { LayerTally } from "./layer-tally.js";
import type { SetItemIndex, SetItemKey } from "./set-items.js";

export class SetTally {
  readonly #index: SetItemIndex;
  readonly #tallies = new Map<SetItemKey, LayerTally>();

  constructor(index: SetItemIndex) {
    this.#index = index;
  }

  /** Count a layer event; returns the item's tally, or undefined for other events. */
  track(event: PullEvent): { item: SetItemKey; tally: LayerTally } | undefined {
    if (event.type !== "layer") return undefined;
    const item = this.#index.itemOf(event);
    if (item === undefined) return undefined;
    const tally = this.#tallies.get(item) ?? new LayerTally();
    this.#tallies.set(item, tally);
    tally.update(event.id, event.status, event.current, event.total);
    return { item, tally };
  }

  /** Bytes of the layers reported for an item (by image and host as results name them). */
  downloaded(image: string, host: string | undefined): number | undefined {
    return this.#tallies.get(this.#index.keyOf(image, host))?.total;
  }

  /** Bytes done and in all, over every item. */
  get totals(): { current: number; total: number } {
    let current = 0;
    let total = 0;
    for (const tally of this.#tallies.values()) {
      current += tally.current;
      total += tally.total;
    }
    return { current, total };
  }
}
