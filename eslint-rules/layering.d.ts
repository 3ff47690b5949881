import type { ESLint, Rule } from 'eslint';

export declare const layeringRule: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
