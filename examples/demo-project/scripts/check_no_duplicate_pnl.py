#!/usr/bin/env python3
"""Welding guard (spec 5-1): PnL and friction arithmetic lives in ONE place, engine/pnl.py.

Any other Python file of the project (tests excepted: they may restate an expected value) fails
the guard when it
  1. re-derives gross PnL: multiplies a price difference (``exit.price - entry.price``) by a
     quantity (``qty``, ``size``, ``quantity``, ``amount``);
  2. re-derives net PnL: stores ``something - fees`` (or friction/slippage cost) under a name such
     as ``net``, ``pnl`` or ``profit`` (variable, keyword argument, dict key or return of a
     ``*pnl*`` function);
  3. defines a function with the same name as one of engine/pnl.py's public functions.

Exit 0 on PASS, 1 on FAIL (each finding printed as ``path:line: message``), 2 on usage errors.
Python 3 standard library only.
"""
import argparse
import ast
import os
import re
import sys

PNL_MODULE = "engine/pnl.py"
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".venv", "venv", "node_modules", "tests", "logs", ".factory"}
PRICE = re.compile(r"price|px\b", re.I)
QTY = re.compile(r"qty|quantity|size|amount", re.I)
FEE = re.compile(r"fee|friction|slippage|commission", re.I)
PNL_NAME = re.compile(r"pnl|profit|(^|_)net($|_)", re.I)


def names_in(node):
    """Every identifier and attribute name used in an expression, as one string."""
    out = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Attribute):
            out.append(n.attr)
        elif isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)):
            out.append(n.func.id if isinstance(n.func, ast.Name) else n.func.attr)
    return " ".join(out)


def mult_factors(node):
    """The factors of a chain of multiplications: ``a * (b - c) * d`` -> [a, (b - c), d]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return mult_factors(node.left) + mult_factors(node.right)
    return [node]


def is_price_difference(node):
    return (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Sub)
        and PRICE.search(names_in(node.left))
        and PRICE.search(names_in(node.right))
    )


def subtracts_fees(node):
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and FEE.search(names_in(n.right)):
            return True
    return False


def target_names(node):
    for t in ast.walk(node):
        if isinstance(t, ast.Name):
            yield t.id
        elif isinstance(t, ast.Attribute):
            yield t.attr


def public_functions(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}


def check_file(rel, source, reserved):
    findings = []
    tree = ast.parse(source, rel)
    seen_mult = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and id(node) not in seen_mult:
            factors = mult_factors(node)
            for n in ast.walk(node):
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
                    seen_mult.add(id(n))
            if any(is_price_difference(f) for f in factors) and any(QTY.search(names_in(f)) for f in factors):
                findings.append((node.lineno, "gross PnL re-derived (price difference x quantity); call engine.pnl.round_trip_pnl()"))
        named = []
        if isinstance(node, ast.Assign):
            named = [(name, node.value) for t in node.targets for name in target_names(t)]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            named = [(name, node.value) for name in target_names(node.target)]
        elif isinstance(node, ast.keyword) and node.arg:
            named = [(node.arg, node.value)]
        elif isinstance(node, ast.Dict):
            named = [(k.value, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        elif isinstance(node, ast.FunctionDef) and PNL_NAME.search(node.name):
            named = [(node.name, r.value) for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
        for name, value in named:
            if PNL_NAME.search(name) and subtracts_fees(value):
                findings.append((getattr(value, "lineno", getattr(node, "lineno", 0)), f"net PnL re-derived as '{name} = ... - fees'; use PnlBreakdown.net from engine.pnl"))
                break
        if isinstance(node, ast.FunctionDef) and node.name in reserved:
            findings.append((node.lineno, f"function '{node.name}' duplicates {PNL_MODULE}"))
    return sorted(set(findings))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    pnl_path = os.path.join(root, PNL_MODULE)
    if not os.path.isfile(pnl_path):
        print(f"Welding: FAIL: {PNL_MODULE} is missing (the one place PnL is computed)")
        return 1
    reserved = public_functions(pnl_path)
    failures = []
    checked = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for fn in sorted(filenames):
            if not fn.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, fn), root).replace(os.sep, "/")
            if rel == PNL_MODULE or (rel.startswith("scripts/check_")):
                continue
            checked += 1
            try:
                with open(os.path.join(root, rel), encoding="utf-8") as f:
                    source = f.read()
                for line, message in check_file(rel, source, reserved):
                    failures.append(f"{rel}:{line}: {message}")
            except (SyntaxError, UnicodeDecodeError) as err:
                failures.append(f"{rel}:{getattr(err, 'lineno', 0) or 0}: cannot be parsed ({err.__class__.__name__}); the guard cannot vouch for it")
    for f in failures:
        print(f"FAIL {f}")
    print(f"Welding: {'FAIL' if failures else 'PASS'} ({checked} files checked, {len(failures)} findings)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
