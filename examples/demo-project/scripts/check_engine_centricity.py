#!/usr/bin/env python3
"""Engine-Centric guard (spec 5-1): scripts/ and harness/ are a thin layer over engine/.

A file under scripts/ or harness/ (the guard scripts themselves excepted) fails the guard when it
  1. defines a class (domain types belong in engine/);
  2. has a function longer than MAX_FUNCTION_STATEMENTS statements;
  3. does money arithmetic: +, -, *, / or ** with an operand that names a price, fee, quantity,
     notional, bps, spread, pnl or slippage value, or stores arithmetic under such a name
     (compute it in engine/ and call that);
  4. has more than MAX_FILE_STATEMENTS statements in all.

Exit 0 on PASS, 1 on FAIL (each finding printed as ``path:line: message``), 2 on usage errors.
Python 3 standard library only.
"""
import argparse
import ast
import os
import re
import sys

THIN_DIRS = ("scripts", "harness")
MAX_FUNCTION_STATEMENTS = 15
MAX_FILE_STATEMENTS = 60
MONEY = re.compile(r"price|fee|qty|quantity|notional|bps|spread|pnl|slippage|profit", re.I)
ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Pow, ast.Mod)


def operand_names(node):
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Attribute):
            out.append(n.attr)
    return " ".join(out)


def count_statements(node):
    return sum(1 for n in ast.walk(node) if isinstance(n, ast.stmt)) - (1 if isinstance(node, ast.stmt) else 0)


def check_file(rel, source):
    findings = []
    tree = ast.parse(source, rel)
    total = count_statements(tree)
    if total > MAX_FILE_STATEMENTS:
        findings.append((1, f"{total} statements; a thin script has at most {MAX_FILE_STATEMENTS}"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            findings.append((node.lineno, f"class '{node.name}' in the thin layer; domain types belong in engine/"))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = count_statements(node)
            if n > MAX_FUNCTION_STATEMENTS:
                findings.append((node.lineno, f"function '{node.name}' has {n} statements (max {MAX_FUNCTION_STATEMENTS}); move the logic into engine/"))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ARITH):
            operands = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.target, node.value)
            hit = next((m.group(0) for o in operands for m in [MONEY.search(operand_names(o))] if m), None)
            if hit:
                findings.append((node.lineno, f"money arithmetic on '{hit}' in the thin layer; compute it in engine/ and call that"))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            m = MONEY.search(" ".join(operand_names(t) for t in targets))
            if m and any(isinstance(n, ast.BinOp) and isinstance(n.op, ARITH) for n in ast.walk(node.value)):
                findings.append((node.lineno, f"money arithmetic on '{m.group(0)}' in the thin layer; compute it in engine/ and call that"))
    return sorted(set(findings))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    if not os.path.isdir(os.path.join(root, "engine")):
        print("Engine-Centric: FAIL: engine/ is missing")
        return 1
    failures = []
    checked = 0
    for top in THIN_DIRS:
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__",))
            for fn in sorted(filenames):
                if not fn.endswith(".py") or (top == "scripts" and fn.startswith("check_")):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
                checked += 1
                try:
                    with open(os.path.join(root, rel), encoding="utf-8") as f:
                        source = f.read()
                    for line, message in check_file(rel, source):
                        failures.append(f"{rel}:{line}: {message}")
                except (SyntaxError, UnicodeDecodeError) as err:
                    failures.append(f"{rel}:{getattr(err, 'lineno', 0) or 0}: cannot be parsed ({err.__class__.__name__})")
    for f in failures:
        print(f"FAIL {f}")
    print(f"Engine-Centric: {'FAIL' if failures else 'PASS'} ({checked} files checked, {len(failures)} findings)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
