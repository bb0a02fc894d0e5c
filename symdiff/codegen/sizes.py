"""Generated modules for any size: the sizes a module was traced at, turned back into symbols.

A program is traced with concrete shapes. To find which numbers of the generated code are sizes,
the module is generated again at two *probe* size assignments, where every size symbol gets a
distinct prime. A number that is the same in all three texts is a constant of the program; one
that changes is a size expression, and the three values pin it down: ``N``, ``N * T``,
``1 / N`` (a mean), ``N - 1`` (``ddof``), with a constant factor. The text is then the same
program written in the symbols, and each function reads them from its inputs first
(``N, D, H = _sizes(...)``), checking ranks and that equal sizes agree.

Which input sizes are one symbol is found from the trace too: every size of at least 2 starts
as its own symbol; where a probe trace fails on two sizes that do not line up (``5 != 7``), the
two become one symbol (they had the same value in the traced call). A program whose code changes
shape with its sizes (a loop over ``range(N)``, a branch on a size) keeps its sizes, and its
module says so and checks them.
"""

from __future__ import annotations

import ast
import io
import itertools
import keyword
import math
import re
import tokenize
from dataclasses import dataclass
from typing import Callable

from ..errors import SymdiffError

# Helpers a sized module carries (runtime.py).
HELPERS = {"_sizes", "_size_phrase", "_size_mismatch"}

# Default names of size symbols, in order of first appearance.
LETTERS = "NDHCKMLPQRSTUVWABEFGIJOYZ"

# A number inside a docstring or comment (not a digit of a name such as t8 or W1).
NUMBER_IN_TEXT = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")

MAX_PROBES = 8


@dataclass
class Sized:
    """The outcome: ``text`` works for any sizes (``symbols`` name them), or, when ``symbols``
    is empty, is the traced module with its sizes checked and a note saying why."""

    text: str
    symbols: dict[str, list[tuple[str, int]]]   # name -> the (input, axis) it is read from
    dims: dict[str, tuple[str, ...]]             # input -> its dims as symbols or numbers


Occurrence = tuple[str, int]  # (input name, axis)


def generalize(make_text: Callable[[dict, dict], str], params: list[str],
               shapes: dict[str, tuple], user_names: dict[Occurrence, str],
               functions: dict[str, list[str]]) -> Sized:
    """The module of ``make_text(shapes)`` written for any sizes where that is possible.

    ``make_text(shapes, decisions)`` generates the module at given input shapes (it may raise
    SymdiffError when they do not fit the program), taking size-dependent decisions (buffer
    reuse, blocks) as at the sizes ``decisions`` maps them to. ``functions`` maps each
    generated function that takes the program's inputs (value-and-gradient, forward) to its
    parameters; other functions read sizes from the cache (backward) or keep the traced sizes
    (``check_gradients``)."""
    base = make_text(shapes, {})
    occurrences = [(p, k) for p in params for k, n in enumerate(shapes[p] or ()) if n >= 2]
    if not occurrences:
        return Sized(base, {}, {p: tuple(map(str, shapes[p] or ())) for p in params})
    groups = [[o] for o in occurrences]
    coarse = False
    for _ in range(MAX_PROBES + 2 * len(occurrences)):  # a failed probe stops at its error
        probes = _probe_values(groups, shapes)
        texts, conflict = [], None
        for values in probes:
            try:
                decisions = {v: _value(g[0], shapes) for g, v in zip(groups, values)}
                texts.append(make_text(_shapes_at(shapes, groups, values), decisions))
            except SymdiffError as exc:
                conflict = _conflicting(str(exc), groups, values, shapes)
                break
        if conflict is None:
            written = _rewrite(base, texts, groups, probes, shapes, params, user_names, functions)
            if written is not None or coarse:
                return written or specialized(base, params, shapes, functions)
            conflict = []
        merged = _merge(groups, conflict, shapes) if conflict else None
        if merged is None:
            if coarse:
                break
            merged, coarse = _by_value(groups, shapes), True
        groups = merged
    return specialized(base, params, shapes, functions)


# ---------------------------------------------------------------- probes
def _value(o: Occurrence, shapes: dict) -> int:
    return shapes[o[0]][o[1]]


def _probe_values(groups: list[list[Occurrence]], shapes: dict) -> list[list[int]]:
    """Two assignments of distinct primes to the groups. The first keeps each size's magnitude
    (the next primes above the traced sizes); the second is small and reverses their order
    (the largest size gets 2), so that code depending on which size is smaller (a clamped
    slice, min(M, N) of a decomposition) or on a size being large differs between the probes
    and is never taken for a symbol."""
    used = {n for s in shapes.values() for n in (s or ())}
    above = []
    for group in groups:
        n = _next_prime(_value(group[0], shapes), used)
        used.add(n)
        above.append(n)
    order = sorted(range(len(groups)), key=lambda g: (_value(groups[g][0], shapes), g),
                   reverse=True)
    small, n = [0] * len(groups), 1
    for g in order:
        n = _next_prime(n, set())
        small[g] = n
    return [above, small]


def _next_prime(n: int, used: set[int]) -> int:
    n += 1
    while n in used or any(n % d == 0 for d in range(2, math.isqrt(n) + 1)):
        n += 1
    return n


def _shapes_at(shapes: dict, groups: list[list[Occurrence]], values: list[int]) -> dict:
    out = {p: list(s) if s is not None else None for p, s in shapes.items()}
    for group, value in zip(groups, values):
        for p, k in group:
            out[p][k] = value
    return {p: tuple(s) if s is not None else None for p, s in out.items()}


def _conflicting(message: str, groups, values: list[int], shapes: dict) -> list[int]:
    """The groups a failed probe names: the two sides of ``a != b`` when the message says so,
    else every probe size it mentions."""
    pairs = re.findall(r"\((\d+) != (\d+)\)", message)
    numbers = [int(n) for pair in pairs for n in pair] if pairs else \
        [int(n) for n in re.findall(r"\d+", message)]
    return sorted({values.index(n) for n in numbers if n in values})


def _merge(groups, named: list[int], shapes: dict) -> list[list[Occurrence]] | None:
    """Join the named groups that had the same traced size; None when that joins nothing."""
    by_value: dict[int, list[int]] = {}
    for g in named:
        by_value.setdefault(_value(groups[g][0], shapes), []).append(g)
    joins = [gs for gs in by_value.values() if len(gs) > 1]
    if not joins:
        return None
    out, gone = [], set()
    for k, group in enumerate(groups):
        if k in gone:
            continue
        join = next((j for j in joins if k in j), [k])
        out.append([o for g in join for o in groups[g]])
        gone.update(join)
    return out


def _by_value(groups, shapes) -> list[list[Occurrence]]:
    out: dict[int, list[Occurrence]] = {}
    for group in groups:
        out.setdefault(_value(group[0], shapes), []).extend(group)
    return list(out.values())


# ---------------------------------------------------------------- rewriting the text
def _tokens(text: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(text).readline))


VARYING = (tokenize.NUMBER, tokenize.STRING, tokenize.COMMENT)


def _rewrite(base: str, texts: list[str], groups, probes, shapes, params, user_names,
             functions) -> Sized | None:
    """The base text with its size numbers written as symbols, or None if the probes' texts
    differ in anything but numbers (the code's structure depends on the sizes)."""
    streams = [_tokens(t) for t in [base, *texts]]
    if len({len(s) for s in streams}) != 1:
        return None
    taken = {t.string for t in streams[0] if t.type == tokenize.NAME}
    names = _names(groups, user_names, taken)
    table = [tuple([_value(g[0], shapes)] + [p[k] for p in probes]) for k, g in enumerate(groups)]
    keep = _spans(base, {"check_gradients", "_sample"})
    edits, used_in = [], {}
    for i, (t1, *others) in enumerate(zip(*streams)):
        if any((t.type, t.string) != (t1.type, t1.string) for t in others):
            if t1.type not in VARYING or any(t.type != t1.type for t in others):
                return None
            if any(a <= t1.start[0] <= b for a, b in keep):
                continue
            new = _rewrite_token(streams[0], i, [t.string for t in others], table, names)
            if new is None:
                return None
            edits.append((t1, new))
            if t1.type == tokenize.NUMBER:
                used_in.setdefault(t1.start[0], set()).update(
                    n for n in names if re.search(rf"\b{n}\b", new))
    text = _apply(base, edits)
    dims = {p: tuple(_dim_name(p, k, n, groups, names) for k, n in enumerate(shapes[p] or ()))
            for p in params}
    symbols = {names[g]: list(group) for g, group in enumerate(groups)}
    return _with_prologues(text, dims, symbols, used_in, functions, params)


def _names(groups, user_names: dict, taken: set[str]) -> list[str]:
    """One name per group: the user's own (``N = X.shape[0]``) where free, else N, D, H, ..."""
    names: list[str] = []
    for group in groups:
        own = [user_names[o] for o in group if o in user_names]
        choice = next((n for n in own if _free(n, taken, names)), None)
        if choice is None:
            choice = next(n for n in itertools.chain(
                LETTERS, (f"{c}{k}" for k in itertools.count(1) for c in LETTERS))
                if _free(n, taken, names) and n not in {user_names.get(o) for o in user_names})
        names.append(choice)
    return names


def _free(name: str, taken: set[str], names: list[str]) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and name not in taken \
        and name not in names and name not in {"np", "math", "cache", "dout"}


def _dim_name(p, k, n, groups, names) -> str:
    for g, group in enumerate(groups):
        if (p, k) in group:
            return names[g]
    return str(n)


def _spans(text: str, names: set[str]) -> list[tuple[int, int]]:
    tree = ast.parse(text)
    return [(n.lineno, n.end_lineno) for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name in names]


def _rewrite_token(tokens, i, others: list[str], table, names) -> str | None:
    token = tokens[i]
    if token.type == tokenize.NUMBER:
        values = [_number(token.string)] + [_number(s) for s in others]
        found = match(values, table, names)
        if found is None:
            return None
        return _in_context(tokens, i, found, "." in token.string or "e" in token.string.lower())
    return _rewrite_prose(token.string, others, table, names)


def _number(text: str) -> float:
    return float(text) if any(c in text for c in ".eE") else int(text, 0)


def _rewrite_prose(text: str, others: list[str], table, names) -> str:
    """Numbers in a docstring or comment (``X[8, 5]``) become the symbols they stand for;
    a number that matches nothing keeps the traced value."""
    splits = [NUMBER_IN_TEXT.split(s) for s in [text, *others]]
    numbers = [NUMBER_IN_TEXT.findall(s) for s in [text, *others]]
    if len({len(s) for s in numbers}) != 1 or any(s[::1] != splits[0] for s in splits[1:]):
        return text
    out = [splits[0][0]]
    for k, column in enumerate(zip(*numbers)):
        found = None if len(set(column)) == 1 else match([_number(c) for c in column], table, names)
        out += [column[0] if found is None else found.text.replace(" * ", "*"), splits[0][k + 1]]
    return "".join(out)


@dataclass
class Found:
    text: str
    atom: bool         # a single name: needs no parentheses
    reciprocal: str | None = None  # for 1 / m: the denominator's text


def match(values: list[float], table: list[tuple], names: list[str]) -> Found | None:
    """The size expression that takes ``values`` at the traced sizes and at both probes
    (``table[g]`` is group g's three sizes): c * m, c / m or m + d for a product m of up to
    three symbols."""
    for degree in (1, 2, 3):
        for combo in itertools.combinations_with_replacement(range(len(table)), degree):
            m = [math.prod(table[g][j] for g in combo) for j in range(3)]
            text = " * ".join(names[g] for g in combo)
            found = _fit(values, m, text, degree == 1)
            if found is not None:
                return found
    for combo in itertools.chain.from_iterable(
            itertools.combinations_with_replacement(range(len(table)), d) for d in (1, 2)):
        m = [math.prod(table[g][j] for g in combo) for j in range(3)]
        text = " * ".join(names[g] for g in combo)
        for d in (-1, 1, -2, 2):
            found = _fit_offset(values, m, text, d)
            if found is not None:
                return found
    return None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _fit(values, m, text: str, atom: bool) -> Found | None:
    if values[1] == 0:
        return None
    c = values[0] / m[0]
    if all(_close(c * mj, v) for mj, v in zip(m, values)):
        return _scaled(c, text, atom)
    c = values[0] * m[0]
    if all(_close(c / mj, v) for mj, v in zip(m, values)):
        denominator = text if atom else f"({text})"
        return Found(f"{_constant(c)} / {denominator}", False,
                     denominator if _constant(c) == "1" else None)
    return None


def _fit_offset(values, m, text: str, d: int) -> Found | None:
    shifted = f"({text} {'+' if d > 0 else '-'} {abs(d)})"
    if all(v == mj + d for mj, v in zip(m, values)):
        return Found(shifted[1:-1], False)
    if any(mj + d == 0 for mj in m):
        return None
    c = values[0] * (m[0] + d)
    if values[1] != 0 and all(_close(c / (mj + d), v) for mj, v in zip(m, values)):
        return Found(f"{_constant(c)} / {shifted}", False,
                     shifted if _constant(c) == "1" else None)
    return None


def _scaled(c: float, text: str, atom: bool) -> Found:
    if c == 1:
        return Found(text, atom)
    return Found(f"{_constant(c)} * {text}", False)


def _constant(c: float) -> str:
    if c == int(c) and abs(c) < 2 ** 53:
        return str(int(c))
    return repr(float(f"{c:.15g}"))


ARITHMETIC = {"*", "/", "+", "-", "**", "//", "%"}
OPERAND_END = {")", "]"}


def _in_context(tokens, i, found: Found, was_float: bool) -> str:
    """The expression as it reads at token ``i``: ``x / N`` for ``x * 0.125``, parentheses
    where an operator binds it, and still a float where the number was one."""
    before = tokens[i - 1].string if i else ""
    after = tokens[i + 1].string if i + 1 < len(tokens) else ""
    if found.reciprocal is not None and before == "*" and after not in {"**"}:
        return "\x00/ " + found.reciprocal  # replaces the '*' before it too
    text = found.text if found.atom else f"({found.text})"
    arithmetic = before in {"*", "/", "**"} or after in ARITHMETIC or (
        before in {"+", "-"} and i > 1 and (tokens[i - 2].type in (tokenize.NAME, tokenize.NUMBER)
                                            or tokens[i - 2].string in OPERAND_END))
    if was_float and not arithmetic and " / " not in found.text:
        return f"({found.text} * 1.0)"
    return text


def _apply(text: str, edits) -> str:
    lines = text.split("\n")
    for token, new in sorted(edits, key=lambda e: e[0].start, reverse=True):
        (r1, c1), (r2, c2) = token.start, token.end
        if new.startswith("\x00"):
            new = new[1:]
            star = lines[r1 - 1].rfind("*", 0, c1)
            c1 = star  # the '*' and the space after it are replaced too
        if r1 == r2:
            line = lines[r1 - 1]
            lines[r1 - 1] = line[:c1] + new + line[c2:]
        else:  # a docstring over several lines
            head, tail = lines[r1 - 1][:c1], lines[r2 - 1][c2:]
            lines[r1 - 1:r2] = (head + new + tail).split("\n")
    return "\n".join(lines)


# ---------------------------------------------------------------- reading the sizes
def dims_tuple(dims: tuple[str, ...]) -> tuple:
    """An input's dims as ``_sizes`` takes them: names, and numbers the code needs exactly."""
    return tuple(int(d) if d.isdigit() else d for d in dims)


def _sizes_call(names: list[str], dims: dict, params: list[str], indent: str) -> str:
    specs = ", ".join(f'("{p}", {p}, {dims_tuple(dims[p])!r})' for p in params)
    target = f"{', '.join(names)} = " if names else ""
    first = "[0]" if len(names) == 1 else ""
    return f'{indent}{target}_sizes({tuple(names)!r}, {specs}){first}'


def _with_prologues(text: str, dims, symbols, used_in, functions, params) -> Sized | None:
    """Each function that takes the inputs reads and checks every size first; a backward reads
    the sizes it uses from the inputs in its cache."""
    tree = ast.parse(text)
    lines = text.split("\n")
    inserts: list[tuple[int, list[str]]] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name in ("check_gradients", "_sample"):
            continue
        body_start = node.body[0].end_lineno + 1 if _has_docstring(node) else node.body[0].lineno
        indent = " " * node.body[0].col_offset
        needed = sorted({n for row, ns in used_in.items()
                         if node.lineno <= row <= node.end_lineno for n in ns},
                        key=list(symbols).index)
        if node.name in functions:
            inserts.append((body_start, [_sizes_call(list(symbols), dims, functions[node.name],
                                                      indent)]))
        elif needed:
            row, new, missing = _cache_reads(node, needed, dims, indent, body_start)
            if missing and not _cache_sizes(tree, lines, functions, missing):
                return None
            inserts.append((row, new + [f'{indent}{n} = cache["{n}"]' for n in missing]))
    for row, new in sorted(inserts, reverse=True):
        lines[row - 1:row - 1] = new
    return Sized("\n".join(lines), symbols, dims)


def _cache_sizes(tree: ast.Module, lines: list[str], functions, missing: list[str]) -> bool:
    """Sizes the backward cannot read from a cached input travel in the forward's cache
    (``"C": C``; size names never collide with the program's names, so neither do the keys)."""
    forward = list(functions)[1:]  # after the value-and-gradient function: the layer API's
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name in forward):
            continue
        last = node.body[-1]
        if isinstance(last, ast.Return) and isinstance(last.value, ast.Tuple) and \
                isinstance(last.value.elts[-1], ast.Dict):
            cache = last.value.elts[-1]
            row, col = cache.end_lineno - 1, cache.end_col_offset - 1
            entries = "".join(f', "{n}": {n}' if cache.keys else f'"{n}": {n}, '
                              for n in missing).removesuffix(", ")
            lines[row] = lines[row][:col] + entries + lines[row][col:]
            return True
    return False


def _has_docstring(node: ast.FunctionDef) -> bool:
    first = node.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
        and isinstance(first.value.value, str) and len(node.body) > 1


def _cache_reads(node: ast.FunctionDef, needed: list[str], dims, indent, start: int) -> tuple:
    """``N, D = X.shape`` after the backward's ``X = cache["X"]`` lines, for each needed size;
    and the sizes no cached input has (they travel in the cache)."""
    cached = [(s.targets[0].id, s.end_lineno) for s in node.body if isinstance(s, ast.Assign)
              and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
              and isinstance(s.value, ast.Subscript) and isinstance(s.value.value, ast.Name)
              and s.value.value.id == "cache"]
    after = max((row for _, row in cached), default=start - 1)
    lines, missing = [], list(needed)
    for name, _ in cached:
        wanted = [n for n in dims.get(name, ()) if n in missing]
        if not wanted:
            continue
        axes = dims[name]
        if len(axes) > 1 and all(a in wanted or a.isdigit() for a in axes):
            lines.append(f"{indent}{', '.join(a if a in wanted else '_' for a in axes)} = "
                         f"{name}.shape")
        else:
            lines += [f"{indent}{n} = {name}.shape[{axes.index(n)}]" for n in wanted]
        missing = [n for n in missing if n not in wanted]
    return after + 1, lines, missing


# ---------------------------------------------------------------- when sizes stay
def specialized(base: str, params, shapes, functions) -> Sized:
    """The traced module, its functions checking the inputs' shapes first, with a note."""
    dims = {p: tuple(map(str, shapes[p] or ())) for p in params}
    sized = _with_prologues(base, dims, {}, {}, functions, params)
    text = sized.text if sized is not None else base
    listed = ", ".join(f"{p}[{', '.join(dims[p])}]" for p in params if dims[p])
    note = (f"Sizes: specialized to {listed}. The code depends on these sizes in a way sizes "
            "read from the inputs cannot express (a loop over a size, a branch on a size, or a "
            "size the code computes from others), so calls with other shapes raise ValueError; "
            "generate it again for them.")
    return Sized(_with_note(text, note), {}, dims)


def with_sizes_note(text: str, sized: Sized) -> str:
    """The module header says which sizes are symbols and where they come from."""
    if not sized.symbols:
        return text
    listed = ", ".join(f"{p}[{', '.join(d)}]" for p, d in sized.dims.items() if d)
    note = (f"Sizes: {', '.join(sized.symbols)} are read from the inputs ({listed}); the "
            "functions work for any sizes and check that the inputs agree.")
    return _with_note(text, note)


def _with_note(text: str, note: str) -> str:
    marker = "regenerate it rather than edit it.\n"
    at = text.find(marker)
    if at < 0:
        return text
    at += len(marker)
    wrapped = _wrap(note)
    return text[:at] + "\n" + wrapped + "\n" + text[at:]


def _wrap(text: str, width: int = 96) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(lines + [line])
