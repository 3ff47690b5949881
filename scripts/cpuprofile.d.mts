export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}
export interface SummaryOptions {
  top?: number;
  match?: string;
  from?: number;
  to?: number;
  skipUntil?: string;
  focus?: string[];
  requests?: number;
  /** Also the busy time by stage of an HTTP request (`HTTP_STAGES`). */
  stages?: boolean;
}
export declare function summariseCpuProfile(profile: CpuProfile, options?: SummaryOptions): string[];
