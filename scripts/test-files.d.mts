/** Types of scripts/test-files.mjs (see there). */
export type Speed = 'unit' | 'e2e';
export function classify(source: string): Speed;
export function localModules(file: string, seen?: Set<string>): Set<string>;
export function classifyFile(file: string): Speed;
export function testFiles(speed: Speed | 'all', root?: string): string[];
