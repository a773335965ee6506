#!/usr/bin/env python3
"""entrelab's source lint: the rules a compiler does not check.

Rules (each finding is printed as FILE:LINE: rule: message):
  assign-in-condition  an assignment inside the condition of an `if` or a
                       `while` (curl's rule: one statement, one effect);
                       `==`, `!=`, `<=`, `>=` are comparisons, not assignments
  banned-function      a call of sprintf, vsprintf, strcpy, strcat, gets,
                       strtok, atoi, atol, rand or alloca (unbounded writes,
                       hidden state, no error report, unchecked stack growth)
  issue-reference      a comment naming an issue or a ticket ("issue 4",
                       "#12"): comments speak of the code
  outside-reference    a comment sending the reader to a file outside the
                       repository (DESIGN.md, STYLE.md, ../shared): what the
                       reader needs is in docs/ARCHITECTURE.md
  long-function        (with --enforce-long) a function body longer than the
                       limit in core/ client/ daemon/ node/ broker/

Scanned: *.c and *.h (and *.proto, for issue references) under core/ client/
daemon/ node/ broker/ tools/ proto/ of the source tree; folders that do not
exist are skipped, so are build*/ folders and generated *.pb-c.* files.
Comments, string and character literals are blanked before the code rules run.

Known findings: tools/lint-known.txt lists findings left on purpose, one per
line as FILE<TAB>RULE<TAB>the offending source line, stripped (so that they
survive edits elsewhere in the file). They are printed as `known`, not
counted; a listed finding that no longer occurs is itself a finding (delete
its line), so the list only shrinks. --no-known ignores the list.

Exit status: 0 clean, 1 findings, 2 usage error. --report-long lists the long
functions without counting them as findings. Standard library only."""

import argparse
import os
import re
import sys

SCAN_DIRS = ("core", "client", "daemon", "node", "broker", "tools", "proto")
LONG_DIRS = ("core", "client", "daemon", "node", "broker")
LONG_LIMIT = 150            # lines of a function, signature to closing brace
BANNED = {
    "sprintf": "unbounded write: use snprintf",
    "vsprintf": "unbounded write: use vsnprintf",
    "strcpy": "unbounded copy: check the length, then memcpy (or snprintf)",
    "strcat": "unbounded append: build the string with snprintf",
    "gets": "unbounded read: use fgets",
    "strtok": "hidden static state: use strtok_r or a hand-written split",
    "atoi": "no error report: use strtol with an end pointer and errno",
    "atol": "no error report: use strtol/strtoll with an end pointer and errno",
    "rand": "not random and process-wide state: use randombytes_* (libsodium)",
    "alloca": "unchecked stack growth: use a bounded array or malloc",
}
# "issue 4", "issues #3", "bug 12", "ticket #7", "PR 9", "pull request 9";
# "#12" standing alone (RFC 5545 names its DATE-TIME forms "FORM #1", kept)
ISSUE_RE = re.compile(
    r"\b(?:issues?|bugs?|tickets?|PRs?|pull\s+requests?)\s*#?\s*\d+\b"
    r"|(?<![\w&#])(?<!form )(?<!FORM )#\d+\b", re.IGNORECASE)
OUTSIDE_RE = re.compile(r"\b(?:DESIGN|STYLE)\.md\b|\.\./shared\b")
ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}
TOKEN_RE = re.compile(
    r"[A-Za-z_]\w*|\d[\w.]*"
    r"|<<=|>>=|->|\+\+|--|==|!=|<=|>=|&&|\|\||<<|>>|[-+*/%&|^]="
    r"|\S")


def blank(text):
    """Return (code, comments): @p text with comments, string and character
    literals replaced by spaces (newlines kept, so offsets and lines stay),
    and the list of (line, comment text)."""
    out = list(text)
    comments = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments.append((line, text[i:j]))
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            start = line
            for k in range(i, j):
                if text[k] == "\n":
                    line += 1
                else:
                    out[k] = " "
            comments.append((start, text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            for k in range(i + 1, j - 1):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        else:
            i += 1
    return "".join(out), comments


def tokens(code):
    """(token, offset) pairs of blanked code, preprocessor lines included."""
    return [(m.group(0), m.start()) for m in TOKEN_RE.finditer(code)]


class Lines:
    """Offset -> line number."""

    def __init__(self, text):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def of(self, offset):
        lo, hi = 0, len(self.starts)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo + 1


def check_conditions(toks, lines, report):
    for i, (tok, _) in enumerate(toks):
        if tok not in ("if", "while") or i + 1 >= len(toks) or toks[i + 1][0] != "(":
            continue
        depth = 0
        for tok2, off2 in toks[i + 1:]:
            if tok2 == "(":
                depth += 1
            elif tok2 == ")":
                depth -= 1
                if depth == 0:
                    break
            elif tok2 == ";" or tok2 == "{":
                break       # not a condition after all (unbalanced macro text)
            elif tok2 in ASSIGN_OPS:
                report(lines.of(off2), "assign-in-condition",
                       "assignment `%s` inside the condition of `%s`: assign first, "
                       "then test" % (tok2, tok))


def check_banned(toks, lines, report):
    for i, (tok, off) in enumerate(toks):
        if tok not in BANNED or i + 1 >= len(toks) or toks[i + 1][0] != "(":
            continue
        if i > 0 and toks[i - 1][0] in (".", "->"):
            continue        # a struct member of that name
        report(lines.of(off), "banned-function", "%s(): %s" % (tok, BANNED[tok]))


def check_comments(comments, report):
    for line, text in comments:
        for k, part in enumerate(text.split("\n")):
            m = ISSUE_RE.search(part)
            if m:
                report(line + k, "issue-reference",
                       "comment names an issue (`%s`): say what the code does and why"
                       % m.group(0).strip())
            m = OUTSIDE_RE.search(part)
            if m:
                report(line + k, "outside-reference",
                       "comment points outside the repository (`%s`): cite "
                       "docs/ARCHITECTURE.md or say it here" % m.group(0))


def functions(toks, lines):
    """(name, first line, last line) of each function definition: a `{` at
    file level right after a `)`. The first line is the one of the name."""
    depth = 0
    stmt_start = 0          # token index where the current file-level declaration starts
    for i, (tok, off) in enumerate(toks):
        if tok == "{":
            if depth == 0 and i > 0 and toks[i - 1][0] == ")":
                name, name_off = "?", off
                for j in range(stmt_start, i):
                    if toks[j][0] == "(" and j > stmt_start:
                        k = j - 1
                        if toks[k][0] != "__attribute__":
                            name, name_off = toks[k]
                            break
                d = 0
                for k in range(i, len(toks)):
                    if toks[k][0] == "{":
                        d += 1
                    elif toks[k][0] == "}":
                        d -= 1
                        if d == 0:
                            yield name, lines.of(name_off), lines.of(toks[k][1])
                            break
            depth += 1
        elif tok == "}":
            depth = max(depth - 1, 0)
            if depth == 0:
                stmt_start = i + 1
        elif tok == ";" and depth == 0:
            stmt_start = i + 1


def strip_preprocessor(code):
    """Blank preprocessor lines (with their continuations): a function-like
    macro body is not a function, and `#if` lines are not `if` statements."""
    out = []
    cont = False
    for ln in code.split("\n"):
        if cont or ln.lstrip().startswith("#"):
            cont = ln.rstrip().endswith("\\")
            out.append(" " * len(ln))
        else:
            out.append(ln)
    return "\n".join(out)


def source_files(root):
    for d in SCAN_DIRS:
        top = os.path.join(root, d)
        if not os.path.isdir(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(x for x in dirnames if not x.startswith("build"))
            for f in sorted(filenames):
                if ".pb-c." in f:
                    continue
                if f.endswith((".c", ".h", ".proto")):
                    yield os.path.join(dirpath, f)


def lint_file(path, rel, text, args, report, long_notes):
    """Run every rule on one file's @p text."""
    code, comments = blank(text)
    check_comments(comments, report)
    if path.endswith(".proto"):
        return
    lines = Lines(text)
    check_banned(tokens(code), lines, report)
    toks = tokens(strip_preprocessor(code))
    check_conditions(toks, lines, report)
    if rel.split(os.sep)[0] not in LONG_DIRS or not (args.report_long or args.enforce_long):
        return
    for name, first, last in functions(toks, lines):
        n = last - first + 1
        if n <= args.long_limit:
            continue
        msg = "%s() is %d lines (limit %d)" % (name, n, args.long_limit)
        if args.enforce_long:
            report(first, "long-function", msg)
        else:
            long_notes.append("%s:%d: long-function: %s" % (rel, first, msg))


def load_known(path):
    """{(file, rule, stripped line): [line number in the list, uses]}"""
    known = {}
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as fh:
        for n, ln in enumerate(fh, 1):
            ln = ln.rstrip("\n")
            if not ln.strip() or ln.startswith("#"):
                continue
            parts = ln.split("\t", 2)
            if len(parts) != 3:
                raise SystemExit("%s:%d: expected FILE<TAB>RULE<TAB>LINE" % (path, n))
            known.setdefault(tuple(parts), []).append(n)
    return known


# What the self-test expects: (source, rules found, in this order).
SELF_TEST = [
    ("if ((x = f ()))\n    g ();\n", ["assign-in-condition"]),
    ("while ((n = read (fd, b, 1)) > 0)\n    n--;\n", ["assign-in-condition"]),
    ("if (a\n    && (b = c ()) < 0)\n    return b;\n", ["assign-in-condition"]),
    ("if (x <<= 2)\n    y ();\nwhile (y |= 1)\n    z ();\n",
     ["assign-in-condition", "assign-in-condition"]),
    ("if (a == b && c <= d && e >= f && g != h && !(i == j))\n    k ();\n", []),
    ("if (f (\"a = b\") && c == '=')\n    d ();\n", []),
    ("for (i = 0; i < n; i++)\n    if (v[i] == 0)\n        break;\nwhile (n--)\n    m++;\n", []),
    ("#if X == 1\n#endif\nint x = y ? 1 : 2;\n", []),
    ("n = sprintf (buf, \"%d\", 1);\nstrcpy (a, b);\n",
     ["banned-function", "banned-function"]),
    ("n = snprintf (buf, sizeof buf, \"%d\", 1);\ns.rand (1);\np->atoi (2);\n"
     "const char *t = \"gets (x)\";\n", []),
    ("/* see issue 4 */\n// fixes #12\n/* bug 7 */\n",
     ["issue-reference", "issue-reference", "issue-reference"]),
    ("/* RFC 5545 form #1; &#12; 3 issues */\nint a; /* #define X */\n", []),
    ("/* as DESIGN.md says */\n// read ../shared/data\n",
     ["outside-reference", "outside-reference"]),
    ("const char *u = \"issue 4 DESIGN.md\";\n", []),
]


def self_test():
    class A:
        report_long = False
        enforce_long = True
        long_limit = 3
    failures = 0
    cases = SELF_TEST + [("static int\nf (void)\n{\n    return 0;\n}\n", ["long-function"]),
                         ("static int\nf (void)\n{\n}\n", [])]
    for src, want in cases:
        got = []
        lint_file("core/t.c", "core/t.c", src, A, lambda l, r, m: got.append(r), [])
        if got != want:
            failures += 1
            print("lint self-test: %r: found %s, expected %s" % (src, got, want), file=sys.stderr)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="source tree to scan (default: this script's tree)")
    ap.add_argument("--report-long", action="store_true",
                    help="list functions longer than the limit (not counted as findings)")
    ap.add_argument("--enforce-long", action="store_true",
                    help="count functions longer than the limit as findings")
    ap.add_argument("--long-limit", type=int, default=LONG_LIMIT, metavar="LINES",
                    help="function length limit, lines (default %d)" % LONG_LIMIT)
    ap.add_argument("--no-known", action="store_true",
                    help="count the findings listed in tools/lint-known.txt too")
    ap.add_argument("--self-test", action="store_true",
                    help="check the rules on built-in examples first")
    ap.add_argument("files", nargs="*", help="check these files only (paths under --root)")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    findings = 0
    long_notes = []
    known_path = os.path.join(root, "tools", "lint-known.txt")
    known = {} if args.no_known else load_known(known_path)
    used = {}

    if args.self_test and self_test():
        return 1
    files = [os.path.abspath(f) for f in args.files] if args.files else list(source_files(root))
    if not files:
        print("lint: no source file found under %s (%s)" % (root, " ".join(SCAN_DIRS)),
              file=sys.stderr)
        return 1
    for path in files:
        rel = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as e:
            print("%s: cannot read: %s" % (rel, e.strerror), file=sys.stderr)
            findings += 1
            continue
        src_lines = text.split("\n")

        def report(line, rule, msg):
            nonlocal findings
            key = (rel, rule, src_lines[line - 1].strip())
            if used.get(key, 0) < len(known.get(key, ())):
                used[key] = used.get(key, 0) + 1
                print("known: %s:%d: %s: %s" % (rel, line, rule, msg))
                return
            findings += 1
            print("%s:%d: %s: %s" % (rel, line, rule, msg))

        lint_file(path, rel, text, args, report, long_notes)

    if not args.files:
        for key, numbers in sorted(known.items(), key=lambda kv: kv[1]):
            for n in numbers[used.get(key, 0):]:
                findings += 1
                print("%s:%d: stale-known: %s %s no longer occurs: delete this line"
                      % (os.path.relpath(known_path, root), n, key[0], key[1]))
    for note in long_notes:
        print("note: " + note)
    if long_notes:
        print("note: %d function(s) over %d lines (report only; --enforce-long counts them)"
              % (len(long_notes), args.long_limit))
    if findings:
        print("lint: %d finding(s)" % findings, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
