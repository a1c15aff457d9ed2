"""The widget's JavaScript, built at import time from the playground page's own ES modules (no copies).

A notebook widget gets one module's text (anywidget's ``_esm``), but the page is several modules that import
each other by relative path. ``bundle(entry)`` follows those imports from `entry`, and writes one module that
turns each file into a Blob URL, dependencies first, with every relative specifier replaced by the URL of the
module it names. The browser then links them exactly as it links the page's files, so the widget runs the
page's code unchanged. (anywidget itself loads ``_esm`` from a Blob URL, so wherever a widget runs, this does.)
"""

import json
import re
from pathlib import Path

from ..engine.errors import RelunetError

# `import x from "./a.js"`, `export { y } from "../b.js"`, `import "./c.js"`, `import("./d.js")`: relative only
_SPECIFIER = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.\.?/[^"'\n]+)\2""")


def module_graph(entry):
    """[(path, source, [dependency paths])] for `entry` and every module it imports, dependencies first."""
    entry = Path(entry).resolve()
    order, seen, active = [], {}, []

    def visit(path):
        if path in seen:
            return
        if path in active:
            cycle = " -> ".join(p.name for p in active[active.index(path):] + [path])
            raise RelunetError(f"the playground's modules import each other in a cycle ({cycle}); cannot bundle")
        if not path.is_file():
            raise RelunetError(f"module {path} is imported but does not exist")
        active.append(path)
        source = path.read_text(encoding="utf-8")
        deps = [(path.parent / m.group(3)).resolve() for m in _SPECIFIER.finditer(source)]
        for d in deps:
            visit(d)
        active.pop()
        seen[path] = len(order)
        order.append((path, source, deps))

    visit(entry)
    return order


def bundle(entry):
    """One ES module whose default export is `entry`'s default export, loading its imports as Blob URLs."""
    graph = module_graph(entry)
    index = {path: i for i, (path, _, _) in enumerate(graph)}
    sources = []
    for path, source, _ in graph:
        def link(m, base=path.parent):
            return f"{m.group(1)}{m.group(2)}@relunet-module:{index[(base / m.group(3)).resolve()]}{m.group(2)}"

        sources.append(_SPECIFIER.sub(link, source) + f"\n//# sourceURL=relunet/{path.name}\n")
    return (
        "// Built by relunet.notebook.esm from the playground's modules: "
        + ", ".join(p.name for p, _, _ in graph) + "\n"
        + "const sources = " + json.dumps(sources) + ";\n"
        + "const urls = [];\n"
        + "for (const src of sources) {\n"
        + "  const code = src.replace(/@relunet-module:(\\d+)/g, (_, i) => urls[+i]);\n"
        + "  urls.push(URL.createObjectURL(new Blob([code], { type: \"text/javascript\" })));\n"
        + "}\n"
        + "const entry = await import(urls[urls.length - 1]);\n"
        + "export default entry.default;\n"
    )
