// Types of scripts/dist-stamp.mjs (plain JavaScript: bin/polyprov loads it before tsx).
export declare const STAMP_FILE: string;
export declare function builds(name: string): boolean;
export declare function sourceStamp(srcDir: string): { files: number; digest: string };
export declare function distIsFresh(srcDir: string, distDir: string): boolean;
