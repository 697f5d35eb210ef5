/** Shared by the daemon-path integration tests: a clean image store, credentials, and a leak scan. */
import { inspect } from "node:util";
import { expect } from "vitest";
import { Credential } from "../../src/credentials/credential.js";
import type { PullEvent } from "../../src/events.js";
import type { WorldInfo } from "../world/client.js";
export { removeAllImages } from "../world/client.js";

export const user = (world: WorldInfo, name: "alice" | "bob"): Credential =>
  Credential.basic(world.users[name].username, world.users[name].password, { type: "explicit", label: `${name}'s test credentials` });

export const wrongPassword = (world: WorldInfo): Credential =>
  Credential.basic(world.users.alice.username, world.users.wrongPassword, {
    type: "env",
    secretVariable: "PULLBACK_REGISTRY_TOKEN",
    usernameVariable: "PULLBACK_REGISTRY_USERNAME",
  });

/** Every secret the world knows. */
export function secretsOf(world: WorldInfo): string[] {
  return [world.users.alice.password, world.users.bob.password, world.users.wrongPassword];
}

/** Fails when any secret appears in anything a scenario produced: events, results, errors with their causes. */
export function expectNoSecrets(world: WorldInfo, ...things: unknown[]): void {
  const text = things
    .map((t) => `${inspect(t, { depth: 12, showHidden: false })}\n${safeJson(t)}\n${t instanceof Error ? (t.stack ?? "") : ""}`)
    .join("\n");
  for (const secret of secretsOf(world)) expect(text.includes(secret), "a secret leaked into output").toBe(false);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}

/** Collects events, for assertions and the leak scan. */
export function recorder(): { events: PullEvent[]; onEvent: (e: PullEvent) => void } {
  const events: PullEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}

/** Await a promise that must reject; returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}
