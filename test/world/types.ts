/** Everything a test needs to reach the world. JSON-serializable: it crosses from globalSetup to workers. */

/** A registry on loopback. */
export interface RegistryEndpoint {
  /** "127.0.0.1:PORT", as it appears in image references. */
  readonly host: string;
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
}

export interface UserCredentials {
  readonly username: string;
  readonly password: string;
}

/** One fixture image as the registries serve it. */
export interface FixtureImage {
  /** "public/app" */
  readonly repository: string;
  readonly tag: string;
  /** Digest of what `GET /v2/<repo>/manifests/<tag>` returns (the index for multi-platform images). */
  readonly manifestDigest: string;
  readonly mediaType: string;
  /** Single-platform images: their config and layers. Multi-platform: those of linux/amd64. */
  readonly configDigest: string;
  readonly layers: readonly { readonly digest: string; readonly size: number; readonly diffId: string }[];
  /** Multi-platform only: per-platform manifests keyed "linux/amd64", "linux/arm64". */
  readonly platforms?: Readonly<
    Record<
      string,
      {
        readonly manifestDigest: string;
        readonly configDigest: string;
        readonly layers: readonly { readonly digest: string; readonly size: number; readonly diffId: string }[];
      }
    >
  >;
}

export interface WorldInfo {
  /** The directory holding every file of this world (removed on stop). */
  readonly stateDir: string;
  /** "unix:///…/docker.sock" */
  readonly dockerHost: string;
  readonly registries: {
    /** Token auth, realm on 127.0.0.1. */
    readonly token: RegistryEndpoint;
    /** Token auth, realm on 127.0.0.2 (another host, like auth.docker.io). */
    readonly tokenOtherRealm: RegistryEndpoint;
    /** Token auth; a valid user without access gets 200 with an empty access list. */
    readonly tokenEmptyAccess: RegistryEndpoint;
    /** htpasswd (alice and bob valid). */
    readonly basic: RegistryEndpoint;
    /** No auth. */
    readonly open: RegistryEndpoint;
  };
  readonly tokenService: {
    /** "http://127.0.0.1:PORT" — GET/POST /token, GET/DELETE /_requests */
    readonly url: string;
    /** "http://127.0.0.2:PORT" — the same service on another host */
    readonly otherHostUrl: string;
  };
  readonly users: {
    /** Pull and push everywhere. */
    readonly alice: UserCredentials;
    /** Valid account without access: 403 DENIED at the token service. */
    readonly bob: UserCredentials;
    /** A password that is nobody's. */
    readonly wrongPassword: string;
  };
  readonly ssh: {
    readonly host: "127.0.0.1";
    readonly port: number;
    readonly user: "root";
    /** Private key (ed25519, no passphrase). */
    readonly keyFile: string;
    readonly knownHostsFile: string;
    /** "ssh://root@127.0.0.1:PORT" */
    readonly url: string;
    /** sshd's VERBOSE log (one "Accepted publickey" line per connection). */
    readonly logFile: string;
    /** The same sshd trusts a user CA and presents a host certificate. */
    readonly certificates: {
      /** A key NOT in authorized_keys: only its certificate lets it in. */
      readonly keyFile: string;
      /** Its user certificate (principal root), signed by the user CA. */
      readonly certificateFile: string;
      readonly userCaFile: string;
      /** known_hosts with only `@cert-authority 127.0.0.1,[127.0.0.1]:* <host CA>`. */
      readonly caKnownHostsFile: string;
    };
  };
  /**
   * SSH the way users configure it, for `ssh -F` / `--ssh-config`: an ssh_config with aliases
   * ("buildbox", "certbox", "bastion", "behind", "behind-direct", "nodocker"; see ssh-routes.ts),
   * a bastion sshd, and a target sshd that only the bastion can reach.
   */
  readonly sshRoutes: {
    readonly configFile: string;
    /** The bastion's VERBOSE log; its own dockerd is absent (DOCKER_HOST points at nothing). */
    readonly bastionLogFile: string;
    /** The target's VERBOSE log (behind the bastion). */
    readonly targetLogFile: string;
    /** "127.0.0.1:PORT" as the bastion sees the target (inside the target's network namespace). */
    readonly targetAddress: string;
  };
  readonly faultProxy: {
    /** "http://127.0.0.1:PORT" — in front of registries.token; POST/DELETE /_faults, GET/DELETE /_requests */
    readonly url: string;
    /** "127.0.0.1:PORT" */
    readonly host: string;
  };
  /** Serves blobs from the token registries' storage; the target of redirect faults. */
  readonly blobServer: {
    /** "http://127.0.0.1:PORT" — GET /blobs/<digest>, GET/DELETE /_requests */
    readonly url: string;
    /** "http://127.0.0.3:PORT" — the same on another host (clients drop Authorization there). */
    readonly otherHostUrl: string;
  };
  readonly fixtures: {
    readonly publicApp: FixtureImage;
    readonly privateApp: FixtureImage;
    readonly publicMulti: FixtureImage;
    readonly publicBig?: FixtureImage;
    /** Twelve small images (public/set-1…8, private/set-1…4) sharing one base layer: for sets of images. */
    readonly set: readonly FixtureImage[];
  };
  /** Milliseconds from startWorld() to ready. */
  readonly startupMs: number;
}

/** A token-service request as recorded (never the password). */
export interface TokenRequestRecord {
  readonly path: string;
  readonly method: string;
  readonly host: string;
  readonly service: string | null;
  readonly scopes: readonly string[];
  readonly user: string | null;
  readonly grantType: string | null;
  readonly outcome: "granted" | "empty" | "denied" | "unauthorized";
  readonly granted: readonly { readonly type: string; readonly name: string; readonly actions: readonly string[] }[];
}

/** A request that passed through the fault proxy. */
export interface ProxyRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly hasAuthorization: boolean;
  /** Bearer token for a non-anonymous subject. */
  readonly authenticated: boolean;
  readonly status: number;
  /** Index of the fault rule that fired, if one did. */
  readonly fault: number | null;
}

/** A request the blob server answered. */
export interface BlobRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly hasAuthorization: boolean;
  readonly status: number;
}

/** What a fault rule matches; every given field must match. */
export interface FaultMatch {
  readonly method?: string;
  /** A RegExp source tested against the path with query. */
  readonly path?: string;
  /** true: only requests with a Bearer token for a non-anonymous subject; false: only the others. */
  readonly authenticated?: boolean;
}

export type FaultAction =
  | { readonly type: "respond"; readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body?: string }
  /** Forward, then destroy the connection after this many body bytes. */
  | { readonly type: "reset"; readonly afterBytes: number }
  /** Wait, then forward (the wait ends early when the client goes away). */
  | { readonly type: "delay"; readonly ms: number }
  /** Forward the body at about this many bytes per second: a transfer that is still going when a test acts. */
  | { readonly type: "throttle"; readonly bytesPerSecond: number }
  /** Forward with one byte of the body flipped (default: the first). */
  | { readonly type: "corrupt"; readonly offset?: number }
  /** 302 a blob GET to the blob server ("same-host": 127.0.0.1, "other-host": 127.0.0.3). */
  | { readonly type: "redirect"; readonly to?: "same-host" | "other-host" };

export interface FaultRule {
  readonly match: FaultMatch;
  readonly action: FaultAction;
  /** How many times the rule fires; unlimited when absent. */
  readonly times?: number;
}
