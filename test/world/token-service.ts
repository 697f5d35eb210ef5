import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { SigningIdentity } from "./certs.js";
import { close, listen, readBody, sendJson } from "./http-server.js";
import { signToken } from "./jwt.js";
import { decide, type Decision, type PolicyInput, type ServiceMode } from "./token-policy.js";
import type { TokenRequestRecord, UserCredentials } from "./types.js";

export interface TokenServiceOptions {
  readonly identity: SigningIdentity;
  readonly issuer: string;
  /** Registry service name → how that registry's tokens are decided. */
  readonly services: Readonly<Record<string, ServiceMode>>;
  readonly accounts: { readonly alice: UserCredentials; readonly bob: UserCredentials };
}

export interface TokenService {
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  /** "http://127.0.0.2:PORT" */
  readonly otherHostUrl: string;
  stop(): Promise<void>;
}

const DENIED = { errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] };
const UNAUTHORIZED = { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] };
const LIFETIME = 300;

type Credentials = PolicyInput["credentials"];

/** The parsed essentials of a token request, GET (Basic) or POST (OAuth2 form). */
interface TokenRequest {
  readonly service: string | null;
  readonly scopes: string[];
  readonly credentials: Credentials;
  readonly grantType: string | null;
  readonly wantsRefreshToken: boolean;
  /** A refresh token that is not ours: unauthorized whatever else. */
  readonly badRefreshToken: boolean;
}

function basicCredentials(header: string | undefined): Credentials {
  const match = /^Basic\s+(.+)$/i.exec(header ?? "");
  if (match?.[1] === undefined) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? { username: decoded, password: "" } : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Scopes may repeat, and OAuth2 joins them with spaces. */
const splitScopes = (values: string[]): string[] => values.flatMap((v) => v.split(" ")).filter((s) => s !== "");

/**
 * The Docker registry token service (GET per the token-auth spec, POST per the
 * OAuth2 spec), run in-process, recording every request without its secrets.
 *
 * @example
 * const tokens = await startTokenService({ identity, issuer: "pullback-world", services: { "token": "standard" }, accounts });
 */
export async function startTokenService(options: TokenServiceOptions): Promise<TokenService> {
  const records: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>();

  async function parse(req: IncomingMessage, url: URL): Promise<TokenRequest> {
    if (req.method !== "POST") {
      return {
        service: url.searchParams.get("service"),
        scopes: splitScopes(url.searchParams.getAll("scope")),
        credentials: basicCredentials(req.headers.authorization),
        grantType: null,
        wantsRefreshToken: url.searchParams.get("offline_token") === "true",
        badRefreshToken: false,
      };
    }
    const form = new URLSearchParams((await readBody(req)).toString("utf8"));
    const grantType = form.get("grant_type");
    const refresh = form.get("refresh_token");
    const refreshUser = refresh === null ? undefined : refreshTokens.get(refresh);
    const credentials: Credentials =
      grantType === "refresh_token"
        ? refreshUser === undefined
          ? null
          : { username: refreshUser, trusted: true }
        : { username: form.get("username") ?? "", password: form.get("password") ?? "" };
    return {
      service: form.get("service"),
      scopes: splitScopes(form.getAll("scope")),
      credentials,
      grantType,
      wantsRefreshToken: form.get("access_type") === "offline",
      badRefreshToken: grantType === "refresh_token" && refreshUser === undefined,
    };
  }

  function answer(res: ServerResponse, parsed: TokenRequest, decision: Decision): void {
    if (decision.outcome === "unauthorized") {
      sendJson(res, 401, UNAUTHORIZED, { "www-authenticate": 'Basic realm="pullback-world token service"' });
      return;
    }
    if (decision.outcome === "denied") {
      sendJson(res, 403, DENIED);
      return;
    }
    const access = decision.outcome === "granted" || decision.outcome === "empty" ? decision.access : [];
    const token = signToken(options.identity, {
      issuer: options.issuer,
      subject: decision.user ?? "",
      audience: parsed.service ?? "",
      access,
      lifetimeSeconds: LIFETIME,
    });
    const body: Record<string, unknown> = { token, access_token: token, expires_in: LIFETIME, issued_at: new Date().toISOString() };
    if (decision.user !== null && (parsed.wantsRefreshToken || parsed.grantType === "refresh_token")) {
      const refresh = `${decision.user}-refresh-${randomBytes(12).toString("hex")}`;
      refreshTokens.set(refresh, decision.user);
      body.refresh_token = refresh;
    }
    sendJson(res, 200, body);
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parsed = await parse(req, url);
    const mode = options.services[parsed.service ?? ""] ?? "standard";
    const validGrant = parsed.grantType === null || parsed.grantType === "password" || parsed.grantType === "refresh_token";
    const decision: Decision =
      parsed.badRefreshToken || !validGrant
        ? { outcome: "unauthorized", user: parsed.credentials?.username ?? null }
        : decide({ mode, accounts: options.accounts, credentials: parsed.credentials, scopes: parsed.scopes });
    records.push({
      path: url.pathname,
      method: req.method ?? "GET",
      host: req.headers.host ?? "",
      service: parsed.service,
      scopes: parsed.scopes,
      user: decision.user,
      grantType: parsed.grantType,
      outcome: decision.outcome,
      granted: decision.outcome === "granted" || decision.outcome === "empty" ? decision.access : [],
    });
    answer(res, parsed, decision);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://token.invalid");
    if (url.pathname === "/token" && (req.method === "GET" || req.method === "POST")) return handleToken(req, res, url);
    if (url.pathname === "/_requests" && req.method === "GET") return sendJson(res, 200, records);
    if (url.pathname === "/_requests" && req.method === "DELETE") {
      records.length = 0;
      return sendJson(res, 200, { cleared: true });
    }
    sendJson(res, 404, { errors: [{ code: "NOT_FOUND", message: "no such endpoint" }] });
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ code: "INTERNAL", message: String(error) }] });
      else res.destroy();
    });
  };
  const servers: Server[] = [createServer(onRequest), createServer(onRequest)];
  try {
    const port = await listen(servers[0]!, "127.0.0.1");
    const otherPort = await listen(servers[1]!, "127.0.0.2");
    return {
      url: `http://127.0.0.1:${port}`,
      otherHostUrl: `http://127.0.0.2:${otherPort}`,
      stop: async () => {
        await Promise.all(servers.map(close));
      },
    };
  } catch (error) {
    await Promise.all(servers.map(close));
    throw error;
  }
}
