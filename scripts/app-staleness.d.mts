export declare function newest(target: string): number;
export declare function appIsStale(root: string): boolean;
