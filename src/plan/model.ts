/**
 * The rotation plan: what `sealant plan` found due and `sealant apply` will do, as plain data
 * (JSON-serialisable, written with `--out` and read back by `apply`). Building, showing and
 * applying are separate steps over this one value; nothing here touches files or keys.
 */

/** What a file needs. `rotate-data-key` always comes with `rewrap`. */
export type PlanAction = 'rewrap' | 'rotate-data-key' | 'rotate-values';

/** How a new value is generated (`x-sealant-generate` of the file's schema). */
export interface GenerateSpec {
  length: number;
  /** `alphanumeric`, `hex`, `base64url`, `ascii-printable`, or the literal alphabet; default alphanumeric. */
  alphabet: string;
}

/** A value that needs a new secret. */
export interface PlanValue {
  /** Dotted key path (`db.password`). */
  path: string;
  /** Why, for people (`age 213d > 90d`, `readable by age1…`). */
  reason: string;
  owner?: string;
  generate?: GenerateSpec;
  /** True when no generator is known: `apply` needs `--value PATH=@FILE` (or `=-` for stdin). */
  needsInput: boolean;
  /** Age of the current value in days, when the history knows it. */
  ageDays?: number;
}

/** One file of a plan. */
export interface PlanFile {
  /** As the user named it (relative to the working directory). */
  file: string;
  environment: string;
  /** sha256 (hex) of the file's bytes when planned: `apply` refuses a file that changed since. */
  digest: string;
  actions: PlanAction[];
  reasons: string[];
  addRecipients: string[];
  removeRecipients: string[];
  values: PlanValue[];
  /** Unified diff of the recipients and of the redacted value tree. */
  expectedDiff?: string;
}

/** Where an offboarded recipient could read secrets. */
export interface Exposure {
  recipient: string;
  environment: string;
  file: string;
  /** Earliest date the recipient could decrypt the file (ISO 8601), when known. */
  since?: string;
  keys: string[];
  /** Whether the recipient holds (or held) the file's current data key. */
  currentKeyExposed: boolean;
}

/** An offboarded recipient the config still lists, removed by the plan. */
export interface RecipientRemoval {
  environment: string;
  /** As `groupNames` shows it: `age1…`, a KMS ARN (`+role`), `pgp:FPR`. */
  recipient: string;
  /** 1-based key group, when the environment uses `key_groups`. */
  group?: number;
}

/**
 * The plan's edit of the project config: offboarded recipients the config still lists are
 * removed first, so no rewrap hands them the new data key. `apply` writes it with the files.
 */
export interface PlanConfigEdit {
  /** The `.sealant.yaml`, relative to the working directory. */
  file: string;
  /** sha256 (hex) of its bytes when planned: `apply` refuses a config that changed since. */
  digest: string;
  removeRecipients: RecipientRemoval[];
  /** Unified diff of the config's text (recipients are public; no secret is shown). */
  expectedDiff: string;
}

/** Counts per action, overall and per environment. */
export interface PlanSummary {
  files: number;
  rewrap: number;
  rotateDataKey: number;
  rotateValues: number;
  values: number;
  byEnvironment: Record<string, { rewrap: number; rotateDataKey: number; rotateValues: number; values: number }>;
}

/** The plan (`version` 1). */
export interface Plan {
  version: 1;
  /** ISO 8601. */
  createdAt: string;
  environment?: string;
  /** Only files with at least one action, in target order. */
  files: PlanFile[];
  /** Recipients removed from the config (offboarding), applied before the files. */
  config?: PlanConfigEdit;
  offboarding?: Exposure[];
  /** What the plan cannot vouch for (a revision left out of a file's history), shown with it. */
  warnings: string[];
  summary: PlanSummary;
}
