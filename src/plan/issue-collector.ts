// Gathers the problems of one expansion without repeating itself: the same problem reached from
// many entries or combinations is reported once, saying where it applies.
import type { InputIssue } from '../errors.js';
import type { FieldPath, Source } from '../manifest/source.js';

interface RuleIssue {
  readonly path: FieldPath;
  readonly message: string;
  readonly hint: string | undefined;
  readonly contexts: string[];
}

export class IssueCollector {
  private readonly issues = new Map<string, InputIssue>();
  private readonly rules = new Map<string, RuleIssue>();

  constructor(private readonly source: Source) {}

  add(...issues: InputIssue[]): void {
    for (const issue of issues) this.issues.set(`${issue.file}\n${issue.path}\n${issue.message}`, issue);
  }

  /** A rule broken by the request of `context` (e.g. `jobs[0] with mode=pro`), at the field `path`. */
  addRule(path: FieldPath, message: string, hint: string | undefined, context: string): void {
    const key = `${path.join('.')}\n${message}`;
    const known = this.rules.get(key);
    if (known) known.contexts.push(context);
    else this.rules.set(key, { path, message, hint, contexts: [context] });
  }

  list(): InputIssue[] {
    const rules = [...this.rules.values()].map(({ path, message, hint, contexts }) => {
      const more = contexts.length > 1 ? `, and ${contexts.length - 1} more combination(s)` : '';
      return this.source.issue(path, `${message.replace(/\.$/, '')} (in ${contexts[0]}${more}).`, hint);
    });
    return [...this.issues.values(), ...rules];
  }
}
