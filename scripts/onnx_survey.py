#!/usr/bin/env python3
"""Describe what ONNX exporters actually emit, for the serkd importer, and time onnxruntime.

What it produces
----------------
Markdown on stdout (or ``--output FILE``) with, for each model file given:
opset imports, IR version, producer, graph inputs/outputs and how the batch
dimension is declared, node op-type histogram, every attribute per op type with
the values seen, where each non-data input of an op comes from (initializer,
Constant node, computed at run time, or absent) - which shows e.g. Split sizes /
ReduceMean axes / Unsqueeze axes as attribute vs input -, how weights are stored
(raw_data vs typed fields, external data, Constant nodes), metadata_props, local
functions and domains, and literal excerpts of the patterns an importer must
handle: the first run-time shape-computing chain (Shape -> ... -> Reshape/Expand),
the first attention core (MatMul ... Softmax ... MatMul), the GELU form and what
Identity nodes do.

With ``--bench`` it instead times onnxruntime (CPU, ``--threads`` intra-op
threads, default graph optimisations) on each model at each ``--batches`` size:
``--warmup`` untimed runs then the median of ``--runs`` timed runs.

Usage (from the repository root)
--------------------------------
    python3 scripts/onnx_survey.py models/*.onnx Tests/Fixtures/models/*.onnx -o /tmp/survey.md
    python3 scripts/onnx_survey.py --bench models/resnet101.onnx models/vit_base_patch16_224_mae.onnx

Requirements: onnx, numpy; onnxruntime for --bench. Deterministic (seeded inputs);
no network access.
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path


def die(msg: str, code: int = 2) -> None:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as exc:  # pragma: no cover
    die(f"needs the Python packages onnx and numpy ({exc}); pip install onnx numpy")

DTYPE = {v: k for k, v in onnx.TensorProto.DataType.items()}


def short(x, n=60) -> str:
    s = str(x)
    return s if len(s) <= n else s[: n - 3] + "..."


def tensor_summary(t: onnx.TensorProto, max_elems=8) -> str:
    dt = DTYPE.get(t.data_type, str(t.data_type)).lower()
    shape = list(t.dims)
    if t.data_location == onnx.TensorProto.EXTERNAL:
        return f"{dt}{shape}(external)"
    try:
        arr = numpy_helper.to_array(t)
    except Exception:  # pragma: no cover
        return f"{dt}{shape}"
    if arr.size <= max_elems:
        vals = arr.tolist()
        if isinstance(vals, float):
            vals = float(f"{vals:.6g}")
        elif isinstance(vals, list):
            vals = [float(f"{v:.6g}") if isinstance(v, float) else v for v in np.ravel(arr).tolist()]
        return f"{dt}{shape}={vals}"
    return f"{dt}{shape}"


def attr_value(a: onnx.AttributeProto) -> str:
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return repr(v.decode(errors="replace"))
    if isinstance(v, onnx.TensorProto):
        return tensor_summary(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, onnx.GraphProto):
        return f"<graph {len(v.node)} nodes>"
    if isinstance(v, list) and v and isinstance(v[0], float):
        return str([float(f"{x:.6g}") for x in v])
    return short(v, 80)


def dim_str(d) -> str:
    if d.HasField("dim_value"):
        return str(d.dim_value)
    if d.HasField("dim_param"):
        return repr(d.dim_param)
    return "?"


def vi_str(vi) -> str:
    tt = vi.type.tensor_type
    dt = DTYPE.get(tt.elem_type, str(tt.elem_type)).lower()
    if not tt.HasField("shape"):
        return f"`{vi.name}`: {dt}, no shape"
    return f"`{vi.name}`: {dt}[{', '.join(dim_str(d) for d in tt.shape.dim)}]"


class Graph:
    def __init__(self, model: onnx.ModelProto):
        g = model.graph
        self.model = model
        self.nodes = list(g.node)
        self.inits = {t.name: t for t in g.initializer}
        self.inputs = [i for i in g.input if i.name not in self.inits]
        self.producer = {}
        for n in self.nodes:
            for o in n.output:
                self.producer[o] = n
        self.consumers = collections.defaultdict(list)
        for n in self.nodes:
            for i in n.input:
                self.consumers[i].append(n)
        self.names = {}
        # run-time dependent values: reachable from a graph input
        self.dynamic = {i.name for i in self.inputs}
        for n in self.nodes:  # exporters emit topologically sorted graphs
            if any(i in self.dynamic for i in n.input if i):
                self.dynamic.update(o for o in n.output if o)

    def source(self, name: str) -> str:
        if not name:
            return "absent"
        if name in self.inits:
            return "initializer"
        p = self.producer.get(name)
        if p is not None and p.op_type == "Constant":
            return "Constant"
        if name in self.dynamic:
            return "computed(run-time)"
        return "computed(constant-foldable)"

    def ref(self, name: str) -> str:
        if not name:
            return "''"
        if name in self.inits:
            return "init:" + tensor_summary(self.inits[name], 8)
        p = self.producer.get(name)
        if p is not None and p.op_type == "Constant" and p.attribute:
            return "const:" + attr_value(p.attribute[0]).replace("'", "")
        return "%" + short(name, 40)

    def fmt(self, n) -> str:
        attrs = ", ".join(f"{a.name}={attr_value(a)}" for a in n.attribute)
        outs = ", ".join("%" + short(o, 40) for o in n.output)
        return f"{outs} = {n.op_type}{'[' + attrs + ']' if attrs else ''}({', '.join(self.ref(i) for i in n.input)})"


# ops whose later inputs are "parameters" (shapes, axes, sizes, ...): report their sources
PARAM_INPUTS = {
    "Reshape": {1: "shape"}, "Expand": {1: "shape"}, "Tile": {1: "repeats"},
    "ConstantOfShape": {0: "shape"}, "Split": {1: "split"}, "Squeeze": {1: "axes"},
    "Unsqueeze": {1: "axes"}, "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},
    "ReduceMean": {1: "axes"}, "ReduceSum": {1: "axes"}, "ReduceMax": {1: "axes"},
    "ReduceMin": {1: "axes"}, "Pad": {1: "pads", 2: "constant_value", 3: "axes"},
    "Clip": {1: "min", 2: "max"}, "Gather": {1: "indices"}, "Range": {0: "start", 1: "limit", 2: "delta"},
    "Resize": {1: "roi", 2: "scales", 3: "sizes"}, "Where": {0: "condition"},
    "Conv": {1: "W", 2: "B"}, "Gemm": {1: "B", 2: "C"}, "MatMul": {1: "B"},
    "LayerNormalization": {1: "scale", 2: "bias"}, "BatchNormalization": {1: "scale", 2: "B", 3: "mean", 4: "var"},
    "Mul": {1: "B"}, "Add": {1: "B"}, "Div": {1: "B"}, "Sub": {1: "B"}, "Pow": {1: "Y"},
    "Concat": {}, "Equal": {1: "B"}, "Dropout": {1: "ratio", 2: "training_mode"},
}


def survey(path: Path, max_chain=14) -> str:
    model = onnx.load(str(path), load_external_data=False)
    G = Graph(model)
    g = model.graph
    out = [f"### `{path.name}`", ""]
    size = path.stat().st_size
    producer = f"{model.producer_name} {model.producer_version}".strip() or "(empty)"
    out.append(f"- file size: {size / 1024:.0f} KiB; producer: `{producer}`; "
               f"IR version **{model.ir_version}**; opset_import: "
               + ", ".join(f"`{o.domain or 'ai.onnx'}`={o.version}" for o in model.opset_import))
    out.append(f"- graph name `{g.name}`; inputs: " + "; ".join(vi_str(i) for i in G.inputs)
               + "; outputs: " + "; ".join(vi_str(o) for o in g.output))
    in_init = len(g.input) - len(G.inputs)
    out.append(f"- initializers also listed as graph inputs: {in_init}; value_info entries: {len(g.value_info)}; "
               f"local functions: {len(model.functions)}"
               + (f" ({', '.join(f.domain + '::' + f.name for f in model.functions)})" if model.functions else ""))
    domains = collections.Counter(n.domain or "ai.onnx" for n in G.nodes)
    out.append(f"- node domains: {dict(domains)}")
    meta_nodes = sum(1 for n in G.nodes if n.metadata_props)
    meta_keys = collections.Counter(p.key for n in G.nodes for p in n.metadata_props)
    doc = sum(1 for n in G.nodes if n.doc_string)
    out.append(f"- model metadata_props: {[p.key for p in model.metadata_props]}; nodes with metadata_props: "
               f"{meta_nodes}/{len(G.nodes)} {dict(meta_keys) if meta_keys else ''}; nodes with doc_string: {doc}")
    names = [n.name for n in G.nodes]
    out.append(f"- node names: {sum(1 for x in names if x)}/{len(names)} named, e.g. `{short(next((x for x in names if x), ''), 50)}`")

    # weights
    fields = collections.Counter()
    dts = collections.Counter()
    ext = 0
    init_bytes = 0
    for t in g.initializer:
        dts[DTYPE.get(t.data_type, t.data_type).lower()] += 1
        if t.data_location == onnx.TensorProto.EXTERNAL:
            ext += 1
            fields["external"] += 1
        elif t.raw_data:
            fields["raw_data"] += 1
            init_bytes += len(t.raw_data)
        else:
            for f in ("float_data", "int64_data", "int32_data", "double_data", "string_data"):
                if len(getattr(t, f)):
                    fields[f] += 1
                    break
            else:
                fields["empty"] += 1
    consts = [n for n in G.nodes if n.op_type == "Constant"]
    c_kinds = collections.Counter()
    c_fields = collections.Counter()
    c_big = 0
    for n in consts:
        for a in n.attribute:
            c_kinds[a.name] += 1
            if a.name == "value":
                c_fields["raw_data" if a.t.raw_data else "typed"] += 1
                if np.prod(a.t.dims, dtype=np.int64) > 16:
                    c_big += 1
    scal = sum(1 for t in g.initializer if len(t.dims) == 0)
    out.append(f"- weights: {len(g.initializer)} initializers ({dict(dts)}), storage {dict(fields)}, "
               f"{init_bytes / 1e6:.2f} MB inline; {scal} scalar (rank-0) initializers; external-data tensors: {ext}")
    out.append(f"- Constant nodes: {len(consts)} (attribute kinds {dict(c_kinds)}, value storage {dict(c_fields)}, "
               f"{c_big} with > 16 elements)")

    # histogram
    hist = collections.Counter(n.op_type for n in G.nodes)
    out.append(f"- **{len(G.nodes)} nodes, {len(hist)} op types**: "
               + ", ".join(f"{k} {v}" for k, v in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))))

    # attributes
    out.append("- attributes seen (value ×count); `-` = op used without attributes:")
    attrs = collections.defaultdict(lambda: collections.defaultdict(collections.Counter))
    for n in G.nodes:
        if n.op_type == "Constant":
            for a in n.attribute:
                t = a.t if a.name == "value" else None
                key = (f"{DTYPE.get(t.data_type).lower()} rank{len(t.dims)}" if t is not None else attr_value(a))
                attrs[n.op_type][a.name][key] += 1
            continue
        for a in n.attribute:
            attrs[n.op_type][a.name][attr_value(a)] += 1
    for op in sorted(hist):
        if op not in attrs:
            out.append(f"  - {op}: -")
            continue
        parts = []
        for an, vals in sorted(attrs[op].items()):
            shown = sorted(vals.items(), key=lambda kv: -kv[1])[:6]
            more = f", +{len(vals) - 6} more" if len(vals) > 6 else ""
            parts.append(f"{an}: " + ", ".join(f"`{v}`×{c}" for v, c in shown) + more)
            missing = hist[op] - sum(vals.values())
            if missing > 0:
                parts[-1] += f", (absent)×{missing}"
        out.append(f"  - {op}: " + "; ".join(parts))

    # parameter-input sources
    lines = []
    for op in sorted(hist):
        if op not in PARAM_INPUTS:
            continue
        ninputs = collections.Counter(len(n.input) for n in G.nodes if n.op_type == op)
        per = []
        for idx, pname in PARAM_INPUTS[op].items():
            c = collections.Counter()
            for n in G.nodes:
                if n.op_type == op:
                    c[G.source(n.input[idx]) if idx < len(n.input) else "absent"] += 1
            per.append(f"{pname}: " + ", ".join(f"{k}×{v}" for k, v in c.most_common()))
        lines.append(f"  - {op} (input counts {dict(ninputs)}): " + "; ".join(per))
    if lines:
        out.append("- where parameter inputs come from:")
        out += lines

    # BatchNorm / GELU / Identity
    gelu = []
    if "Gelu" in hist:
        gelu.append(f"Gelu op ×{hist['Gelu']}")
    for n in G.nodes:
        if n.op_type == "Erf":
            p = G.producer.get(n.input[0])
            c = G.consumers[n.output[0]]
            chain, frontier = ([G.fmt(p)] if p else []) + [G.fmt(n)], [n]
            for _ in range(3):  # Erf -> Add 1 -> Mul x -> Mul 0.5 (in either order)
                frontier = [c for f in frontier for c in G.consumers[f.output[0]]]
                chain += [G.fmt(c) for c in frontier]
            gelu.append("Erf decomposition, e.g.:\n```\n" + "\n".join(chain) + "\n```")
            break
    if "Tanh" in hist:
        gelu.append(f"Tanh ×{hist['Tanh']}")
    out.append(f"- BatchNormalization nodes: {hist.get('BatchNormalization', 0)}"
               + ("" if hist.get("BatchNormalization") else " (folded into Conv weights/bias, or none in model)"))
    out.append(f"- GELU: {'; '.join(gelu) if gelu else 'none'}")
    ids = [n for n in G.nodes if n.op_type == "Identity"]
    if ids:
        src = collections.Counter(G.source(n.input[0]) for n in ids)
        cons = collections.Counter(c.op_type for n in ids for c in G.consumers[n.output[0]])
        out.append(f"- Identity nodes: {len(ids)}; their input is {dict(src)}; consumed by {dict(cons)}; e.g. `{G.fmt(ids[0])}`")

    # shape-computing chains: parameter inputs computed at run time
    shape_ops = ("Reshape", "Expand", "ConstantOfShape", "Tile", "Slice", "Range")
    shape_nodes = set()
    chains = []
    for n in G.nodes:
        if n.op_type not in shape_ops:
            continue
        idxs = [k for k in PARAM_INPUTS.get(n.op_type, {}) if k < len(n.input)]
        for k in idxs:
            nm = n.input[k]
            if nm in G.dynamic:
                cone, stack = [], [nm]
                seen = set()
                while stack:
                    x = stack.pop()
                    p = G.producer.get(x)
                    if p is None or id(p) in seen or x not in G.dynamic:
                        continue
                    if p.op_type not in ("Shape", "Gather", "Unsqueeze", "Concat", "Slice", "Cast", "Squeeze",
                                         "Mul", "Div", "Add", "Sub", "Equal", "Where", "ConstantOfShape",
                                         "Reshape", "Range", "Floor", "Sqrt", "Expand", "Max", "Min", "Identity"):
                        continue
                    seen.add(id(p))
                    cone.append(p)
                    if p.op_type != "Shape":
                        stack.extend(i for i in p.input if i)
                cone_ids = {id(c) for c in cone}
                ordered = [m for m in G.nodes if id(m) in cone_ids]
                shape_nodes.update(cone_ids)
                chains.append((n, k, ordered))
    if chains:
        kinds = collections.Counter(
            f"{n.op_type}.{PARAM_INPUTS[n.op_type][k]} <- {'/'.join(sorted(set(m.op_type for m in o)))}"
            for n, k, o in chains)
        out.append(f"- run-time shape computation: {len(chains)} parameter inputs computed from `Shape` "
                   f"({len(shape_nodes)} helper nodes); kinds: " + "; ".join(f"{k} ×{v}" for k, v in kinds.most_common()))
        n, k, ordered = max(chains[:6], key=lambda c: len(c[2]))
        body = [G.fmt(m) for m in ordered[-max_chain:]] + [G.fmt(n)]
        out.append(f"  representative chain (feeds `{n.op_type}.{PARAM_INPUTS[n.op_type][k]}`):\n```\n" + "\n".join(body) + "\n```")
    else:
        out.append("- run-time shape computation: none (all shape/axes inputs are initializers or Constants)")

    # attention core
    act_mm = [n for n in G.nodes if n.op_type == "MatMul" and all(G.source(i) == "computed(run-time)" for i in n.input)]
    if "Attention" in hist:
        att = next(n for n in G.nodes if n.op_type == "Attention")
        out.append(f"- attention: fused `Attention` op ×{hist['Attention']}, e.g. `{G.fmt(att)}`")
    sm = next((n for n in G.nodes if n.op_type == "Softmax"), None)
    if sm is not None and act_mm:
        idx = G.nodes.index(sm)
        start = idx
        while start > 0:
            m = G.nodes[start]
            if m.op_type in ("MatMul", "Gemm") and len(m.input) > 1 and G.source(m.input[1]) == "initializer" and start < idx:
                break
            start -= 1
        end = idx
        while end < len(G.nodes) - 1:
            m = G.nodes[end]
            if m.op_type in ("MatMul", "Gemm") and len(m.input) > 1 and G.source(m.input[1]) == "initializer" and end > idx:
                break
            end += 1
        seg = [m for m in G.nodes[start:end + 1] if id(m) not in shape_nodes and m.op_type != "Constant"]
        hidden = sum(1 for m in G.nodes[start:end + 1] if id(m) in shape_nodes or m.op_type == "Constant")
        out.append(f"- attention core (first block, qkv projection .. output projection; {hidden} Constant/shape-helper "
                   f"nodes omitted, {len(seg)} shown):\n```\n" + "\n".join(G.fmt(m) for m in seg) + "\n```")
    out.append("")
    return "\n".join(out)


def bench(paths, batches, threads, warmup, runs, seed) -> str:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        die(f"--bench needs onnxruntime ({exc}); pip install onnxruntime")
    rows = [f"onnxruntime {ort.__version__}, CPUExecutionProvider, intra_op_num_threads={threads}, "
            f"default graph optimisation level, {warmup} warm-up runs, median of {runs}", "",
            "| model | batch | median ms | min ms | max ms | ms / image |", "|---|---:|---:|---:|---:|---:|"]
    for p in paths:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(p), so, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        for b in batches:
            shape = [b if not isinstance(d, int) else d for d in inp.shape]
            x = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
            for _ in range(warmup):
                sess.run(None, {inp.name: x})
            ts = []
            for _ in range(runs):
                t0 = time.perf_counter()
                sess.run(None, {inp.name: x})
                ts.append((time.perf_counter() - t0) * 1e3)
            med = statistics.median(ts)
            rows.append(f"| {Path(p).name} | {b} | {med:.1f} | {min(ts):.1f} | {max(ts):.1f} | {med / b:.1f} |")
            print(rows[-1], file=sys.stderr, flush=True)
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", type=Path, help="ONNX files")
    p.add_argument("-o", "--output", type=Path, help="write markdown here instead of stdout")
    p.add_argument("--bench", action="store_true", help="time onnxruntime instead of surveying")
    p.add_argument("--batches", default="1,8", help="batch sizes for --bench (default 1,8)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads for --bench (default 2)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for m in args.models:
        if not m.is_file():
            die(f"{m} not found (run scripts/export_models.py first)")
    if args.bench:
        text = bench(args.models, [int(b) for b in args.batches.split(",")], args.threads,
                     args.warmup, args.runs, args.seed)
    else:
        text = "\n".join(survey(m) for m in args.models)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
