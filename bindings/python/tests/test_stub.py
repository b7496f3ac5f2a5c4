"""The stub file (_smgcore.pyi) and the package agree with the compiled module.

Names, class members, property-or-method, and for every function its
parameter names, kinds (positional or keyword-only) and literal defaults,
read from pybind11's signature lines or __text_signature__.
"""

import ast
import inspect
import pathlib

import pytest

import smgcore
from smgcore import _smgcore

STUB = pathlib.Path(_smgcore.__file__).with_name("_smgcore.pyi")
# Dunder methods that are part of the API (others, like __repr__, are not
# declared in the stub).
API_DUNDERS = {"__init__", "__enter__", "__exit__", "__eq__", "__hash__"}


def stub_module():
    return ast.parse(STUB.read_text(), filename=str(STUB))


def stub_top_level(tree):
    """name -> node for the stub's public top-level definitions."""
    names = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def is_private_alias(name, node):
    return name.startswith("_") and name != "__version__" and isinstance(node, ast.AnnAssign)


class Param:
    """One parameter: name, kind ("positional" or "keyword"), default (or absent)."""

    NO_DEFAULT = object()
    NOT_LITERAL = object()

    def __init__(self, name, kind, default):
        self.name, self.kind, self.default = name, kind, default

    def key(self):
        return (self.name, self.kind)

    def __repr__(self):
        return f"{self.name}:{self.kind}={self.default!r}"


def literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return Param.NOT_LITERAL


def stub_params(fn):
    a = fn.args
    params = []
    positional = a.posonlyargs + a.args
    defaults = [Param.NO_DEFAULT] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for arg, default in zip(positional, defaults):
        d = default if default is Param.NO_DEFAULT else literal(ast.unparse(default))
        params.append(Param(arg.arg, "positional", d))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        d = Param.NO_DEFAULT if default is None else literal(ast.unparse(default))
        params.append(Param(arg.arg, "keyword", d))
    return params[1:] if params and params[0].name == "self" else params


def split_top_level(text):
    """Splits on commas outside brackets and quotes."""
    parts, depth, current, quote = [], 0, "", None
    for ch in text:
        if quote:
            current += ch
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def runtime_params(obj, name):
    """Parameters of a compiled function, from its signature."""
    text_signature = getattr(obj, "__text_signature__", None)
    if text_signature:  # a CPython-level method (select)
        sig = inspect.signature(obj)
        params = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            kind = "keyword" if p.kind is p.KEYWORD_ONLY else "positional"
            default = Param.NO_DEFAULT if p.default is p.empty else p.default
            params.append(Param(p.name, kind, default))
        return params
    first = obj.__doc__.splitlines()[0]
    assert first.startswith(name + "("), f"{name}: unexpected signature line {first!r}"
    inside = first[len(name) + 1 : first.rindex(")")]
    params, kind = [], "positional"
    for part in split_top_level(inside):
        if part == "*":
            kind = "keyword"
            continue
        pname, _, rest = part.partition(":")
        default = Param.NO_DEFAULT
        if "=" in rest:
            default = literal(rest.split("=", 1)[1].strip())
        params.append(Param(pname.strip(), kind, default))
    return params[1:] if params and params[0].name == "self" else params


def compare_params(where, stub_fn, runtime_fn, name):
    stub = stub_params(stub_fn)
    runtime = runtime_params(runtime_fn, name)
    if name.startswith("__") and name != "__init__":
        assert len(stub) == len(runtime), f"{where}: {stub} vs {runtime}"
        return
    assert [p.key() for p in stub] == [p.key() for p in runtime], f"{where}: {stub} vs {runtime}"
    for s, r in zip(stub, runtime):
        assert (s.default is Param.NO_DEFAULT) == (r.default is Param.NO_DEFAULT), (
            f"{where}.{s.name}: default present in one only ({s} vs {r})"
        )
        if s.default is Param.NO_DEFAULT or Param.NOT_LITERAL in (s.default, r.default):
            continue
        assert s.default == r.default, f"{where}.{s.name}: stub default {s.default!r}, module {r.default!r}"


def stub_members(cls_node):
    """name -> ("property"|"method"|"attribute", node) for a stub class body."""
    members = {}
    for node in cls_node.body:
        if isinstance(node, ast.FunctionDef):
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if "property" in decorators:
                members[node.name] = ("property", node)
            elif any(d.endswith(".setter") for d in decorators):
                continue
            else:
                members[node.name] = ("method", node)
        elif isinstance(node, ast.AnnAssign):
            members[node.target.id] = ("attribute", node)
    return members


def runtime_members(cls):
    members = {}
    for name, value in vars(cls).items():
        if name.startswith("__") and name not in API_DUNDERS:
            continue
        if name.startswith("_pybind11"):
            continue
        if name == "__init__" and not (value.__doc__ or "").startswith("__init__("):
            continue  # pybind11's "No constructor defined" placeholder
        members[name] = "property" if isinstance(value, property) else "method"
    return members


def test_stub_parses_and_declares_the_module_names():
    tree = stub_module()
    declared = {n for n, node in stub_top_level(tree).items() if not is_private_alias(n, node)}
    runtime = {n for n in dir(_smgcore) if not n.startswith("__")} | {"__version__"}
    assert declared == runtime


def test_private_stub_names_are_type_aliases_only():
    for name, node in stub_top_level(stub_module()).items():
        if name.startswith("_") and name != "__version__":
            assert "TypeAlias" in ast.unparse(node.annotation), name
            assert not hasattr(_smgcore, name)


@pytest.mark.parametrize("name", sorted(n for n in dir(_smgcore) if isinstance(getattr(_smgcore, n), type)))
def test_class_agrees_with_stub(name):
    cls = getattr(_smgcore, name)
    node = stub_top_level(stub_module())[name]
    assert isinstance(node, ast.ClassDef)
    declared = stub_members(node)
    if issubclass(cls, BaseException):
        # Exceptions: the declared bases and class attributes exist.
        bases = [ast.unparse(b) for b in node.bases]
        assert [b.__name__ for b in cls.__bases__] == bases
        for member in declared:
            assert hasattr(cls, member), f"{name}.{member}"
        return
    runtime = runtime_members(cls)
    assert set(declared) == set(runtime), f"{name}: stub-only {set(declared) - set(runtime)}, module-only {set(runtime) - set(declared)}"
    for member, (kind, fn) in declared.items():
        assert kind == runtime[member], f"{name}.{member}: {kind} in the stub, {runtime[member]} in the module"
        if kind == "method":
            compare_params(f"{name}.{member}", fn, getattr(cls, member), member)


@pytest.mark.parametrize("name", ["Decision", "Permit", "RetryDecision", "TenantReservation", "Worker"])
def test_classes_without_constructor_are_not_constructible(name):
    with pytest.raises(TypeError):
        getattr(smgcore, name)()


def test_writable_properties_are_declared_with_setters():
    for name in ("Decision",):
        cls = getattr(_smgcore, name)
        node = stub_top_level(stub_module())[name]
        setters = {
            f.name for f in node.body if isinstance(f, ast.FunctionDef) and any(ast.unparse(d).endswith(".setter") for d in f.decorator_list)
        }
        writable = {n for n, v in vars(cls).items() if isinstance(v, property) and v.fset is not None}
        assert setters == writable


def test_package_reexports_the_module():
    public = sorted(n for n in dir(_smgcore) if not n.startswith("_")) + ["__version__"]
    assert sorted(smgcore.__all__) == sorted(public)
    for name in smgcore.__all__:
        assert getattr(smgcore, name) is getattr(_smgcore, name)


def test_package_is_typed():
    assert STUB.with_name("py.typed").exists()


def test_version_matches_the_cmake_project(source_dir):
    text = (source_dir / "CMakeLists.txt").read_text()
    assert f"project(smgcore VERSION {smgcore.__version__} " in text
