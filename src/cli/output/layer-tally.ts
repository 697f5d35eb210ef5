/**
 * Bytes per layer and in all, from the daemon's progress lines. A layer that is
 * complete or already present counts as fully transferred, whatever the last
 * progress line said.
 */
const COMPLETE = /^(download complete|pull complete|already exists|verifying checksum|extracting|done|exists)$/i;

export class LayerTally {
  readonly #layers = new Map<string, { current: number; total: number }>();

  update(id: string, status: string, current: number | undefined, total: number | undefined): { current: number; total: number } {
    const layer = this.#layers.get(id) ?? { current: 0, total: 0 };
    // Extraction progress counts bytes again; only the download's numbers are transfer.
    const extracting = /^extracting$/i.test(status);
    if (total !== undefined && total > 0 && !extracting) layer.total = total;
    if (current !== undefined && !extracting) layer.current = current;
    if (COMPLETE.test(status) && layer.total > 0) layer.current = layer.total;
    this.#layers.set(id, layer);
    return layer;
  }

  get current(): number {
    let sum = 0;
    for (const layer of this.#layers.values()) sum += Math.min(layer.current, layer.total || layer.current);
    return sum;
  }

  get total(): number {
    let sum = 0;
    for (const layer of this.#layers.values()) sum += layer.total;
    return sum;
  }

  get size(): number {
    return this.#layers.size;
  }
}
