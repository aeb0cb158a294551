/** The part of madge's API (madge 8, no bundled types) that test/core/imports.test.ts uses. */
declare module 'madge' {
  interface MadgeResult {
    /** file → the files it imports (paths relative to baseDir). */
    obj(): Record<string, string[]>;
    /** Every import circle, as lists of files. */
    circular(): string[][];
    /** Files madge could not resolve (npm packages are left out of the graph). */
    warnings(): { skipped: string[] };
  }
  interface MadgeConfig {
    baseDir?: string;
    fileExtensions?: string[];
    tsConfig?: string | object;
    detectiveOptions?: Record<string, Record<string, unknown>>;
    includeNpm?: boolean;
  }
  function madge(path: string | string[], config?: MadgeConfig): Promise<MadgeResult>;
  export default madge;
}
