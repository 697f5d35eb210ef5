/**
 * registries.yaml is replaced atomically and privately (it holds credentials):
 * the shared atomic writer with mode 0600 unless told otherwise.
 */
import { writeFileAtomic as writeAtomic, type AtomicWriteOptions } from "../../files/atomic-write.js";

export type { AtomicWriteOptions } from "../../files/atomic-write.js";

/**
 * Write `text` to `path` atomically, mode 0600, keeping the old file's owner.
 *
 * @example
 * await writeFileAtomic("/etc/rancher/k3s/registries.yaml", yamlText);
 */
export async function writeFileAtomic(path: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  await writeAtomic(path, text, { ...options, mode: options.mode ?? 0o600 });
}
