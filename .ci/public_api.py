#!/usr/bin/env python3
"""The crate's public API as sorted text lines, from rustdoc's JSON output.

Usage:
    python3 .ci/public_api.py target/doc/bedrock_converse.json > public-api.txt
    python3 .ci/public_api.py --check public-api.txt target/doc/bedrock_converse.json

One line per public item a user can name: modules, types, their public fields
and variants, inherent methods with their signatures, trait implementations,
traits and their methods, constants, functions and re-exports. `--check`
fails (exit 1, with a diff) when the listing differs from the committed one,
so every change to the public surface is a visible diff in review. Regenerate
with `.ci/public_api.sh --bless`.

Written against rustdoc's JSON format (nightly `--output-format json`); a shape
it does not know is printed as compact JSON rather than dropped, so a format
change shows up as a diff, never as a silently shorter listing.
"""
import difflib
import json
import sys


# rustdoc's `paths`: item id -> its canonical path, so a type reads the same
# however the source spelled it (`super::event::Delta`, `crate::Delta`, ...).
PATHS = {}


def render_path(p):
    if p is None:
        return "?"
    name = p.get("path") or p.get("name") or "?"
    known = PATHS.get(str(p.get("id")))
    if known:
        name = "::".join(known["path"])
    args = p.get("args")
    return name + render_args(args)


def render_args(args):
    if not args:
        return ""
    if "angle_bracketed" in args:
        ab = args["angle_bracketed"]
        parts = []
        for a in ab.get("args", []):
            if "type" in a:
                parts.append(render_type(a["type"]))
            elif "lifetime" in a:
                parts.append(a["lifetime"])
            elif "const" in a:
                parts.append(str(a["const"].get("expr", "_")))
            else:
                parts.append(json.dumps(a, sort_keys=True))
        for c in ab.get("constraints", []):
            binding = c.get("binding", {})
            if "equality" in binding:
                eq = binding["equality"]
                value = render_type(eq["type"]) if "type" in eq else json.dumps(eq, sort_keys=True)
                parts.append(f"{c['name']} = {value}")
            else:
                parts.append(c.get("name", "?") + ": " + json.dumps(binding, sort_keys=True))
        return "<" + ", ".join(parts) + ">" if parts else ""
    if "parenthesized" in args:
        pz = args["parenthesized"]
        out = "(" + ", ".join(render_type(t) for t in pz.get("inputs", [])) + ")"
        if pz.get("output") is not None:
            out += " -> " + render_type(pz["output"])
        return out
    return json.dumps(args, sort_keys=True)


def render_bound(b):
    if "trait_bound" in b:
        tb = b["trait_bound"]
        modifier = {"maybe": "?", "maybe_const": "~const "}.get(tb.get("modifier"), "")
        return modifier + render_path(tb["trait"])
    if "outlives" in b:
        return b["outlives"]
    return json.dumps(b, sort_keys=True)


def render_type(t):
    if t is None:
        return "()"
    if isinstance(t, str):
        return "_" if t == "infer" else t
    (kind, v), = t.items()
    if kind == "resolved_path":
        return render_path(v)
    if kind in ("generic", "primitive"):
        return v
    if kind == "borrowed_ref":
        lt = (v.get("lifetime") + " ") if v.get("lifetime") else ""
        mut = "mut " if v.get("is_mutable") else ""
        return f"&{lt}{mut}{render_type(v['type'])}"
    if kind == "raw_pointer":
        return ("*mut " if v.get("is_mutable") else "*const ") + render_type(v["type"])
    if kind == "slice":
        return f"[{render_type(v)}]"
    if kind == "array":
        return f"[{render_type(v['type'])}; {v['len']}]"
    if kind == "tuple":
        return "(" + ", ".join(render_type(x) for x in v) + ")"
    if kind == "impl_trait":
        return "impl " + " + ".join(render_bound(b) for b in v)
    if kind == "dyn_trait":
        traits = [render_path(x["trait"]) for x in v.get("traits", [])]
        if v.get("lifetime"):
            traits.append(v["lifetime"])
        return "dyn " + " + ".join(traits)
    if kind == "qualified_path":
        trait = render_path(v["trait"]) if v.get("trait") else "_"
        return f"<{render_type(v['self_type'])} as {trait}>::{v['name']}"
    if kind == "function_pointer":
        sig = v.get("sig") or v.get("decl") or {}
        ins = ", ".join(render_type(ty) for _, ty in sig.get("inputs", []))
        out = sig.get("output")
        return f"fn({ins})" + (f" -> {render_type(out)}" if out is not None else "")
    return json.dumps(t, sort_keys=True)


def render_generics(g):
    if not g:
        return ""
    params = []
    for p in g.get("params", []):
        kind = p.get("kind", {})
        if "lifetime" in kind:
            params.append(p["name"])
        elif "type" in kind:
            if kind["type"].get("is_synthetic"):
                continue  # an `impl Trait` argument, shown in the signature
            bounds = kind["type"].get("bounds", [])
            params.append(p["name"] + (": " + " + ".join(render_bound(b) for b in bounds) if bounds else ""))
        elif "const" in kind:
            params.append(f"const {p['name']}: {render_type(kind['const']['type'])}")
    return "<" + ", ".join(params) + ">" if params else ""


def render_fn(name, f):
    sig = f.get("sig") or f.get("decl") or {}
    ins = []
    for arg_name, ty in sig.get("inputs", []):
        if arg_name == "self":
            rendered = render_type(ty)
            ins.append({"Self": "self", "&Self": "&self", "&mut Self": "&mut self"}.get(rendered, "self: " + rendered))
        else:
            ins.append(f"{arg_name}: {render_type(ty)}")
    out = sig.get("output")
    header = f.get("header", {})
    prefix = ("const " if header.get("is_const") else "") + ("unsafe " if header.get("is_unsafe") else "")
    ret = f" -> {render_type(out)}" if out is not None else ""
    return f"{prefix}fn {name}{render_generics(f.get('generics'))}({', '.join(ins)}){ret}"


class Lister:
    def __init__(self, krate):
        self.k = krate
        self.index = krate["index"]
        self.lines = set()
        self.seen = set()

    def item(self, i):
        return self.index.get(str(i))

    def add(self, line):
        self.lines.add(line)

    def walk(self, item_id, path):
        key = (str(item_id), path)
        if key in self.seen:
            return
        self.seen.add(key)
        it = self.item(item_id)
        if it is None:
            return
        (kind, v), = it["inner"].items()
        if kind == "module":
            self.add(f"pub mod {path}")
            for child in v.get("items", []):
                c = self.item(child)
                if c is None or c.get("visibility") != "public":
                    continue
                (ck, cv), = c["inner"].items()
                if ck == "use":
                    self.reexport(cv, path)
                elif ck == "impl":
                    continue
                else:
                    self.walk(child, f"{path}::{c['name']}")
        elif kind == "struct":
            self.add(f"pub struct {path}{render_generics(v.get('generics'))}")
            sk = v.get("kind", {})
            if isinstance(sk, dict) and "plain" in sk:
                for fid in sk["plain"].get("fields", []):
                    self.field(fid, path)
            elif isinstance(sk, dict) and "tuple" in sk:
                for n, fid in enumerate(sk["tuple"]):
                    if fid is not None:
                        f = self.item(fid)
                        if f and f.get("visibility") == "public":
                            self.add(f"pub {path}.{n}: {render_type(f['inner']['struct_field'])}")
            self.impls(v.get("impls", []), path)
        elif kind == "enum":
            self.add(f"pub enum {path}{render_generics(v.get('generics'))}")
            for vid in v.get("variants", []):
                var = self.item(vid)
                if var is None:
                    continue
                vk = var["inner"]["variant"].get("kind")
                if isinstance(vk, dict) and "tuple" in vk:
                    tys = []
                    for fid in vk["tuple"]:
                        f = self.item(fid) if fid is not None else None
                        tys.append(render_type(f["inner"]["struct_field"]) if f else "_")
                    self.add(f"pub {path}::{var['name']}({', '.join(tys)})")
                elif isinstance(vk, dict) and "struct" in vk:
                    self.add(f"pub {path}::{var['name']} {{ .. }}")
                    for fid in vk["struct"].get("fields", []):
                        f = self.item(fid)
                        if f:
                            self.add(f"pub {path}::{var['name']}.{f['name']}: {render_type(f['inner']['struct_field'])}")
                else:
                    self.add(f"pub {path}::{var['name']}")
            self.impls(v.get("impls", []), path)
        elif kind == "union":
            self.add(f"pub union {path}")
            self.impls(v.get("impls", []), path)
        elif kind == "function":
            self.add(f"pub {render_fn(path, v)}")
        elif kind == "trait":
            unsafe = "unsafe " if v.get("is_unsafe") else ""
            self.add(f"pub {unsafe}trait {path}{render_generics(v.get('generics'))}")
            for tid in v.get("items", []):
                t = self.item(tid)
                if t is None:
                    continue
                (tk, tv), = t["inner"].items()
                if tk == "function":
                    provided = " (provided)" if tv.get("has_body") else ""
                    self.add(f"pub {render_fn(path + '::' + t['name'], tv)}{provided}")
                else:
                    self.add(f"pub {tk} {path}::{t['name']}")
        elif kind == "type_alias":
            self.add(f"pub type {path}{render_generics(v.get('generics'))} = {render_type(v.get('type'))}")
        elif kind == "constant":
            ty = v.get("type")
            expr = (v.get("const") or {}).get("expr", "")
            self.add(f"pub const {path}: {render_type(ty)} = {expr}")
        elif kind == "static":
            self.add(f"pub static {path}: {render_type(v.get('type'))}")
        elif kind == "macro":
            self.add(f"pub macro {path}!")
        else:
            self.add(f"pub {kind} {path}")

    def field(self, fid, path):
        f = self.item(fid)
        if f and f.get("visibility") == "public":
            self.add(f"pub {path}.{f['name']}: {render_type(f['inner']['struct_field'])}")

    def reexport(self, use, module_path):
        name = use.get("name")
        target = use.get("id")
        if use.get("is_glob"):
            self.add(f"pub use {use.get('source')}::* in {module_path}")
            return
        if target is not None and str(target) in self.index:
            self.walk(target, f"{module_path}::{name}")
        else:
            self.add(f"pub use {module_path}::{name} = {use.get('source')}")

    def impls(self, impl_ids, path):
        for iid in impl_ids:
            imp = self.item(iid)
            if imp is None:
                continue
            v = imp["inner"]["impl"]
            if v.get("is_synthetic") or v.get("blanket_impl") is not None:
                continue
            trait = v.get("trait")
            if trait is not None:
                neg = "!" if v.get("is_negative") else ""
                generics = render_generics(v.get("generics"))
                self.add(f"impl{generics} {neg}{render_path(trait)} for {path}")
                continue
            for mid in v.get("items", []):
                m = self.item(mid)
                if m is None or m.get("visibility") != "public":
                    continue
                (mk, mv), = m["inner"].items()
                if mk == "function":
                    self.add(f"pub {render_fn(path + '::' + m['name'], mv)}")
                elif mk == "assoc_const" or mk == "constant":
                    ty = mv.get("type")
                    self.add(f"pub const {path}::{m['name']}: {render_type(ty)}")
                else:
                    self.add(f"pub {mk} {path}::{m['name']}")


def listing(json_path):
    with open(json_path) as f:
        krate = json.load(f)
    PATHS.update(krate.get("paths", {}))
    lister = Lister(krate)
    root = krate["index"][str(krate["root"])]
    lister.walk(krate["root"], root["name"])
    return sorted(lister.lines)


def main(argv):
    if len(argv) == 2:
        print("\n".join(listing(argv[1])))
        return 0
    if len(argv) == 4 and argv[1] == "--check":
        with open(argv[2]) as f:
            committed = f.read().splitlines()
        now = listing(argv[3])
        if committed == now:
            print(f"public API unchanged ({len(now)} lines)")
            return 0
        sys.stdout.writelines(
            line + "\n"
            for line in difflib.unified_diff(committed, now, argv[2], "this build", lineterm="")
        )
        print(
            "\nThe public API changed: review the diff above, list any breaking change in "
            "CHANGELOG.md, and run `.ci/public_api.sh --bless` to update the listing.",
            file=sys.stderr,
        )
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
