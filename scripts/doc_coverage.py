#!/usr/bin/env python3
"""Counts public declarations without a `///` comment in Sources/ (issue 17: every public
declaration is documented). Prints the share per module and the undocumented ones with
--list; exits 1 when the share of undocumented declarations is above --max (percent).

A declaration counts as documented when the lines right above it (attributes such as
@discardableResult and @inlinable skipped) end a `///` block. Members of a public extension of a
protocol requirement are counted like any other. `public init` of a type counts too: the guide
asks for `- Parameters:` there, which this script does not check."""
import argparse, os, re, sys

DECL = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:public|open)\s+(?:(?:static|final|class|override|mutating|nonisolated|convenience|required|indirect|private\(set\)|fileprivate\(set\)|internal\(set\))\s+)*'
                  r'(func|init|var|let|struct|class|enum|protocol|typealias|case|subscript|actor|extension)\b')

def scan(path):
    out = []
    lines = open(path, encoding='utf-8').read().split('\n')
    for i, line in enumerate(lines):
        m = DECL.match(line)
        if not m or m.group(1) == 'extension':
            continue
        j = i - 1
        while j >= 0 and re.match(r'^\s*@\w+', lines[j]):
            j -= 1
        documented = j >= 0 and lines[j].strip().startswith('///')
        out.append((documented, i + 1, line.strip()))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--max', type=float, default=None, help='fail above this percentage undocumented')
    ap.add_argument('--list', action='store_true')
    args = ap.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'Sources')
    total = missing = 0
    per = {}
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith('.swift'):
                continue
            path = os.path.join(dirpath, f)
            module = os.path.relpath(path, root).split(os.sep)[0]
            for documented, line, text in scan(path):
                t, m = per.get(module, (0, 0))
                per[module] = (t + 1, m + (0 if documented else 1))
                total += 1
                if not documented:
                    missing += 1
                    if args.list:
                        print(f'{os.path.relpath(path, os.path.join(root, ".."))}:{line}: {text}')
    for module, (t, m) in sorted(per.items()):
        print(f'{module:16} {t:5} public, {m:4} undocumented ({100.0 * m / max(t, 1):.1f}%)')
    share = 100.0 * missing / max(total, 1)
    print(f'{"all":16} {total:5} public, {missing:4} undocumented ({share:.1f}%)')
    if args.max is not None and share > args.max:
        print(f'doc_coverage: {share:.1f}% of public declarations lack a /// comment (at most {args.max}% allowed)', file=sys.stderr)
        return 1
    return 0

sys.exit(main())
