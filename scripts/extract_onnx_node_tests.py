#!/usr/bin/env python3
"""Copy ONNX backend *node* conformance cases for a chosen set of ops into the test fixtures.

What it produces
----------------
``Tests/Fixtures/onnx-node/<case_name>/model.onnx`` plus every
``test_data_set_N/input_*.pb`` / ``output_*.pb`` of that case (serialized
TensorProto files, exactly as shipped by onnx), and
``Tests/Fixtures/onnx-node/manifest.json`` listing each copied case with the op it
tests, the op types its graph uses, its opset and its size.

Which cases are copied
----------------------
A case qualifies when *every* node of its graph (recursively, including If/Loop
subgraphs) is a default-domain op whose type is in ``--ops``. Cases named
``*_expanded*`` are the function-body expansions of an op: they qualify on the
same rule, by the op types of their own nodes (so e.g. ``test_layer_normalization_*_expanded``
needs ReduceMean/Sub/Pow/... in the list, and ``test_celu_expanded`` can qualify even
though Celu is not listed). Models with local functions qualify only if the
calling nodes themselves are in the list (they never are, in practice).
``--exclude REGEX`` drops matching case names afterwards.

Where the data comes from
-------------------------
onnx wheels >= 1.23 no longer ship ``onnx/backend/test/data/node``; onnx 1.21.0
does (1678 node cases, ~10 MB). The script reads either

* the installed onnx package (if it still contains the node data), or
* a wheel given by ``--wheel PATH`` (read directly from the zip, nothing is installed):

      pip download onnx==1.21.0 --no-deps -d /tmp/onnxwheel
      python3 scripts/extract_onnx_node_tests.py --wheel /tmp/onnxwheel/onnx-1.21.0-*.whl --ops Abs,Add,...

  ``--wheel`` also accepts the download folder (the newest onnx-*.whl in it is used).

Usage (from the repository root)
--------------------------------
    python3 scripts/extract_onnx_node_tests.py --wheel /tmp/onnxwheel --ops Relu,Conv,Gemm
    python3 scripts/extract_onnx_node_tests.py --wheel /tmp/onnxwheel --ops-file ops.txt --clean
    python3 scripts/extract_onnx_node_tests.py --wheel /tmp/onnxwheel --ops Relu --dry-run

It prints, per op, how many cases were copied and their size, and the total.
Requirements: onnx (any recent version, used only to parse model.onnx). Deterministic;
no network access.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
NODE_PREFIX = "onnx/backend/test/data/node/"
DEFAULT_DOMAINS = ("", "ai.onnx")


def die(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    import onnx
except ImportError as exc:  # pragma: no cover - depends on the environment
    die(f"Python package 'onnx' is needed to parse the test models ({exc}). Install it with: pip install onnx")


# --------------------------------------------------------------------------------------
# sources: installed package directory or wheel zip
# --------------------------------------------------------------------------------------

class DirSource:
    def __init__(self, root: Path):
        self.root = root
        self.label = str(root)

    def cases(self) -> dict[str, list[str]]:
        out = {}
        for case in sorted(p for p in self.root.iterdir() if p.is_dir()):
            files = sorted(str(f.relative_to(case)) for f in case.rglob("*") if f.is_file())
            if "model.onnx" in files:
                out[case.name] = files
        return out

    def read(self, case: str, rel: str) -> bytes:
        return (self.root / case / rel).read_bytes()


class WheelSource:
    def __init__(self, wheel: Path):
        self.zip = zipfile.ZipFile(wheel)
        self.label = str(wheel)

    def cases(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = collections.defaultdict(list)
        for info in self.zip.infolist():
            if info.is_dir() or not info.filename.startswith(NODE_PREFIX):
                continue
            parts = PurePosixPath(info.filename[len(NODE_PREFIX):]).parts
            if len(parts) >= 2:
                out[parts[0]].append("/".join(parts[1:]))
        return {k: sorted(v) for k, v in sorted(out.items()) if "model.onnx" in v}

    def read(self, case: str, rel: str) -> bytes:
        return self.zip.read(NODE_PREFIX + case + "/" + rel)


def open_source(wheel: Path | None):
    if wheel is not None:
        if wheel.is_dir():
            wheels = sorted(wheel.glob("onnx-*.whl"))
            if not wheels:
                die(f"no onnx-*.whl in {wheel}; run: pip download onnx==1.21.0 --no-deps -d {wheel}")
            wheel = wheels[-1]
        if not wheel.is_file():
            die(f"wheel {wheel} not found; run: pip download onnx==1.21.0 --no-deps -d /tmp/onnxwheel")
        src = WheelSource(wheel)
        if not src.cases():
            die(f"{wheel} has no {NODE_PREFIX} data (onnx >= 1.23 wheels dropped it; use onnx==1.21.0)")
        return src
    root = Path(onnx.__file__).parent / "backend" / "test" / "data" / "node"
    if not root.is_dir():
        die(f"installed onnx {onnx.__version__} does not ship {root} (removed in onnx 1.23). "
            "Download a wheel that does and pass it with --wheel:\n"
            "    pip download onnx==1.21.0 --no-deps -d /tmp/onnxwheel\n"
            "    python3 scripts/extract_onnx_node_tests.py --wheel /tmp/onnxwheel --ops ...")
    return DirSource(root)


# --------------------------------------------------------------------------------------
# op analysis
# --------------------------------------------------------------------------------------

def graph_nodes(graph):
    """All nodes of a graph, recursing into subgraph attributes (If/Loop/Scan bodies)."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from graph_nodes(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from graph_nodes(g)


def op_key(node) -> str:
    return node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}::{node.op_type}"


def tested_op(case: str, ops_of: dict[str, list[str]], nodes_of: dict[str, list[str]]) -> str:
    """The op a case is about: the base case's op for *_expanded*, else its main node."""
    if "_expanded" in case:
        base = case[: case.index("_expanded")]
        if base in ops_of:
            return tested_op(base, ops_of, nodes_of)
    seq = [o for o in nodes_of[case] if o not in ("Constant", "Identity")] or nodes_of[case]
    distinct = list(dict.fromkeys(seq))
    return distinct[0] if len(distinct) == 1 else seq[-1]


def parse_ops(args) -> list[str]:
    text = args.ops or ""
    if args.ops_file:
        text += "," + Path(args.ops_file).read_text()
    ops = [o.strip() for o in re.split(r"[,\s]+", text) if o.strip() and not o.strip().startswith("#")]
    if not ops:
        die("no ops given: use --ops Abs,Add,... or --ops-file FILE")
    return list(dict.fromkeys(ops))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ops", help="comma (or space) separated ONNX op types, e.g. Relu,Conv,Gemm")
    p.add_argument("--ops-file", help="file with op types separated by commas/whitespace/newlines")
    p.add_argument("--wheel", type=Path,
                   help="onnx wheel (or folder holding one) that ships onnx/backend/test/data/node")
    p.add_argument("--out", type=Path, default=REPO / "Tests" / "Fixtures" / "onnx-node",
                   help="destination (default: <repo>/Tests/Fixtures/onnx-node)")
    p.add_argument("--exclude", action="append", default=[], metavar="REGEX",
                   help="drop cases whose name matches REGEX (repeatable)")
    p.add_argument("--clean", action="store_true",
                   help="first delete case folders (those holding model.onnx) already in --out")
    p.add_argument("--dry-run", action="store_true", help="report what would be copied, copy nothing")
    p.add_argument("--list", action="store_true", help="also print every selected case")
    args = p.parse_args(argv)

    allowed = set(parse_ops(args))
    src = open_source(args.wheel)
    cases = src.cases()

    nodes_of: dict[str, list[str]] = {}
    meta: dict[str, dict] = {}
    for case, files in cases.items():
        model = onnx.load_from_string(src.read(case, "model.onnx"))
        nodes_of[case] = [op_key(n) for n in graph_nodes(model.graph)]
        meta[case] = {
            "opset": {o.domain or "ai.onnx": o.version for o in model.opset_import},
            "ir_version": model.ir_version,
            "local_functions": len(model.functions),
        }
    ops_of = {c: sorted(set(v)) for c, v in nodes_of.items()}

    selected = [c for c in cases
                if nodes_of[c] and set(nodes_of[c]) <= allowed
                and not any(re.search(rx, c) for rx in args.exclude)]

    if args.clean and not args.dry_run and args.out.is_dir():
        for d in args.out.iterdir():
            if d.is_dir() and (d / "model.onnx").is_file():
                shutil.rmtree(d)

    per_op = collections.defaultdict(lambda: [0, 0])  # tested op -> [cases, bytes]
    uses = collections.Counter()
    manifest = {}
    total = 0
    for case in selected:
        size = 0
        for rel in cases[case]:
            data = src.read(case, rel)
            size += len(data)
            if not args.dry_run:
                dst = args.out / case / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(data)
        op = tested_op(case, ops_of, nodes_of)
        per_op[op][0] += 1
        per_op[op][1] += size
        uses.update(ops_of[case])
        total += size
        manifest[case] = {"op": op, "ops": ops_of[case], "bytes": size,
                          "data_sets": len({r.split("/")[0] for r in cases[case] if "/" in r}), **meta[case]}

    if not args.dry_run:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "manifest.json").write_text(json.dumps({
            "source": Path(src.label).name,
            "onnx_used_to_parse": onnx.__version__,
            "ops": sorted(allowed),
            "exclude": args.exclude,
            "cases": manifest,
        }, indent=1, sort_keys=False) + "\n")

    print(f"source: {src.label} ({len(cases)} node cases)")
    print(f"{'op (tested)':<28}{'cases':>6}{'KiB':>9}   {'cases using op':>14}")
    for op in sorted(per_op, key=lambda o: (o not in allowed, o.lower())):
        n, b = per_op[op]
        mark = "" if op in allowed else "  (not in --ops: expanded variants only)"
        print(f"{op:<28}{n:>6}{b / 1024:>9.1f}   {uses.get(op, 0):>14}{mark}")
    missing = sorted(allowed - set(per_op))
    if missing:
        print("listed ops with no case of their own: " + ", ".join(
            f"{o} (used by {uses[o]})" if uses.get(o) else o for o in missing))
    verb = "would copy" if args.dry_run else "copied"
    print(f"{verb} {len(selected)} cases, {total / 1024 / 1024:.2f} MiB ({total} bytes) -> {args.out}")
    if args.list:
        for c in selected:
            print(f"  {c}  [{manifest[c]['op']}]  {manifest[c]['bytes']} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
