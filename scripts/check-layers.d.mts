/** The layering of src/ as scripts/layers.json writes it. */
export interface Layers {
  tiers: string[][];
  onlyFrom?: Record<string, string[]>;
  mayImport?: Record<string, string[]>;
  typeImportsAllowed?: string[];
  pending?: string[];
}

export interface FolderEdge {
  from: string;
  to: string;
  files: { file: string; spec: string; typeOnly: boolean }[];
  typeOnly: boolean;
}

export function folderEdges(srcDir: string): FolderEdge[];
export function checkLayers(srcDir: string, layers: Layers): { violations: string[]; pending: string[] };
