"""Finds import cycles among a crate's source files (edges: `use crate::…` and
`super::…` paths, through `mod.rs` re-exports; comments and test modules are
left out) and files far over 500 lines. Exits 1 if there are any."""
# file-level import graph of src/: edges from `use crate::...`/`super::` paths; prints cycles and big files
import os,re,sys
root=sys.argv[1] if len(sys.argv)>1 else 'src'
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'): files[os.path.join(d,f)]=open(os.path.join(d,f)).read()
def modpath(p):
    rel=os.path.relpath(p,root)[:-3].split('/')
    if rel[-1] in('mod','lib'): rel=rel[:-1]
    return rel
mods={tuple(modpath(p)):p for p in files}
def resolve(cur, path):
    parts=path.split('::')
    if parts[0]=='crate': base=[]; parts=parts[1:]
    elif parts[0]=='super':
        base=list(cur[:-1]) if not files[mods[tuple(cur)]].__len__()==0 else list(cur[:-1])
        # cur is module path of file; for mod.rs files super is parent too
        parts=parts[1:]
        while parts and parts[0]=='super': base=base[:-1]; parts=parts[1:]
    elif parts[0]=='self': base=list(cur); parts=parts[1:]
    else: return None
    # longest prefix that is a module file
    best=None
    for k in range(len(parts)+1):
        cand=tuple(base+parts[:k])
        if cand in mods: best=cand
        if cand in reexp: return reexp[cand]
    return best
reexp={}
for p,src in files.items():
    cur=tuple(modpath(p))
    for m in re.finditer(r'pub(?:\(crate\))?\s+use\s+(\w+)::\{?([^;]*?)\}?;', src):
        sub=m.group(1)
        if cur+(sub,) in mods:
            for name in m.group(2).split(','):
                name=name.strip().split(' as ')[-1].strip()
                if name: reexp[cur+(name,)]=cur+(sub,)
edges={}
for p,src in files.items():
    cur=modpath(p)
    src=re.sub(r'#\[cfg\(test\)\]\s*mod tests \{.*', '', src, flags=re.S)
    src=re.sub(r'//[^\n]*', '', src)
    es=set()
    for m in re.finditer(r'(?:use\s+|\b)((?:crate|super|self)(?:::\w+)+)', src):
        t=resolve(cur,m.group(1))
        if t and t!=tuple(cur): es.add(t)
    # also `use crate::x::{a, b}` handled by prefix; braces: crate::{a::B, c::D}
    for m in re.finditer(r'use\s+(crate|super)::\{([^}]*)\}', src):
        for item in m.group(2).split(','):
            item=item.strip().split('::')[0]
            if item:
                t=resolve(cur,m.group(1)+'::'+item)
                if t and t!=tuple(cur): es.add(t)
    edges[tuple(cur)]=es
# remove edges to parent mod.rs that only re-exports? keep
sys.setrecursionlimit(10000)
idx={};low={};st=[];on=set();sccs=[];c=[0]
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges.get(v,()):
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: sccs.append(comp)
for v in list(edges):
    if v not in idx: sc(v)
for comp in sccs: print('CYCLE:', ' <-> '.join('::'.join(x) or 'lib' for x in comp))
print('cycles:',len(sccs))
long=[(len(src.splitlines()),p) for p,src in files.items() if len(src.splitlines())>550]
for n,p in sorted(long): print(f'TOO LONG: {p} has {n} lines (keep files near 500)')
sys.exit(1 if sccs or long else 0)
