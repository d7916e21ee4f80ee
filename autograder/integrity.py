"""Flag student code that reaches for the answers or tampers with the tests (for human review).

Two layers, both cheap:

- :func:`scan` reads the student's own cells (every cell that autograde does not restore from
  the source) and reports imports of ``solutions``, mentions of the gradebook or the source
  notebooks, use of the names the hidden tests bind (``ref_min_max_scale``), frame and
  interpreter introspection, and assignments into ``builtins``, numpy/torch (``np.testing``),
  ``sys`` or the IPython shell.
- :data:`GUARD` runs silently in the kernel before the first cell. It installs an audit hook
  (``sys.addaudithook``; it cannot be removed) that records an ``import`` of ``solutions`` or an
  ``open`` of the reference package or a gradebook while a frame of a student cell is on the
  stack (a cell whose compiled source is not one of the restored, trusted cells), and defines a
  ``check()`` called before every test cell and at the end: it reports notebook-defined
  objects installed into ``builtins``, numpy, torch, ``math``, ``unittest``, ``solutions``, the
  shell's hooks and transformers, and a replaced ``solutions`` module or trace function.

A flag does not change the score: the submission is graded as usual and listed for review.
"""

import ast
import re

from IPython.core.inputtransformer2 import TransformerManager

WATCHED_ROOTS = {"builtins", "__builtins__", "np", "numpy", "torch", "math", "operator", "unittest",
                 "sys", "sklearn", "IPython", "pytest", "solutions", "importlib"}
INTROSPECTION = {
    "modules": "sys.modules", "_getframe": "frame introspection", "currentframe": "frame introspection",
    "stack": None, "f_back": "frame introspection", "f_globals": "frame introspection",
    "f_locals": "frame introspection", "get_referrers": "gc introspection", "get_objects": "gc introspection",
    "settrace": "a trace function", "setprofile": "a profile function", "addaudithook": "an audit hook",
    "set_custom_exc": "the shell's exception handler", "input_transformers_post": "the shell's transformers",
    "input_transformers_cleanup": "the shell's transformers", "ast_transformers": "the shell's transformers",
    "showtraceback": "the shell's traceback display", "register": None,
}
FORBIDDEN_MODULES = {"solutions", "nbgrader"}
# "solutions" as a word anywhere (arguments of import functions, unparsable code)
_SOLUTIONS_TEXT = re.compile(r"(^|[\s/\\.'\"])solutions([/\\.'\"]|$)")
# string constants that name the package or a path into it (not prose such as "the solutions.")
_SOLUTIONS_NAME = re.compile(r"^\s*solutions(\.\w+)*\s*$|(^|[/\\])solutions[/\\]")
_MENTIONS = [(re.compile(r"gradebook", re.I), "mentions the gradebook"),
             (re.compile(r"(^|[/\\])source[/\\].*\.ipynb|exercises[/\\]source", re.I),
              "mentions the source notebooks"),
             (_SOLUTIONS_NAME, "mentions the solutions package")]
_DYNAMIC_IMPORTS = {"__import__", "import_module", "spec_from_file_location", "SourceFileLoader", "run_path",
                    "run_module", "find_spec", "open", "read_text", "exec", "eval"}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
        parts.append("get_ipython()")
    elif isinstance(node, ast.Subscript):
        return _dotted(node.value)
    else:
        return ""
    return ".".join(reversed(parts))


def _patch_target(node):
    """Dotted name of an assignment target inside a watched module, else None."""
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        name = _dotted(node.value if isinstance(node, ast.Attribute) else node)
        root = name.split(".")[0]
        if root in WATCHED_ROOTS or root == "get_ipython()":
            return name + (f".{node.attr}" if isinstance(node, ast.Attribute) else "[...]")
    return None


def _scan_tree(tree, hidden_names):
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"imports {node.module}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for element in (target.elts if isinstance(target, ast.Tuple) else [target]):
                    name = _patch_target(element)
                    if name:
                        found.append(f"patches {name}")
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if fname in ("setattr", "delattr") and node.args:
                root = _dotted(node.args[0]).split(".")[0]
                if root in WATCHED_ROOTS or root == "get_ipython()":
                    found.append(f"patches {_dotted(node.args[0])} with {fname}()")
            if fname in ("run_line_magic", "run_cell_magic"):  # %time CODE, %%timeit ...: scan CODE too
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        try:
                            found += _scan_tree(ast.parse(arg.value), hidden_names)
                        except (SyntaxError, ValueError):
                            pass
            if fname in _DYNAMIC_IMPORTS:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and \
                            _SOLUTIONS_TEXT.search(arg.value):
                        found.append(f"loads solutions through {fname}()")
        elif isinstance(node, ast.Attribute):
            label = INTROSPECTION.get(node.attr, "")
            if node.attr == "stack" and _dotted(node.value) == "inspect":
                label = "frame introspection"
            elif node.attr == "register" and _dotted(node.value).endswith("events"):
                label = "the shell's event hooks"
            elif node.attr == "modules" and _dotted(node.value) != "sys":
                label = ""
            if label:
                found.append(f"uses {label} ({_dotted(node)})")
        elif isinstance(node, ast.Name) and node.id in hidden_names:
            found.append(f"uses the hidden tests' name {node.id}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in hidden_names:
                found.append(f"uses the hidden tests' name {node.value!r}")
            for pattern, label in _MENTIONS:
                if pattern.search(node.value):
                    found.append(label)
    return found


def scan(cells, hidden_names=()):
    """Flags for the student's cells: ``cells`` is a list of (label, source)."""
    hidden = set(hidden_names)
    transformer = TransformerManager()
    flags = []
    for label, source in cells:
        try:
            tree = ast.parse(transformer.transform_cell(source))
        except (SyntaxError, ValueError, RecursionError):
            # unparsable code still runs nowhere; only look for the package name
            found = ["mentions the solutions package"] if _SOLUTIONS_TEXT.search(source) else []
        else:
            found = _scan_tree(tree, hidden)
        for item in dict.fromkeys(found):
            flags.append(f"{label}: {item}")
    return flags


def trusted_digests(sources):
    """sha256 of the compiled form (after IPython's transforms) of trusted cell sources."""
    import hashlib

    transformer = TransformerManager()
    return sorted({hashlib.sha256(transformer.transform_cell(s).encode()).hexdigest() for s in sources})


# Runs silently in the kernel before any student cell. Placeholders: __NAME__ (a random module
# name), __TRUSTED__ (digests of trusted cells), __PYLIB__ (folder holding the reference).
GUARD = r'''
def __autograder_guard():
    import builtins, functools, hashlib, linecache, os, sys, types, warnings
    name, trusted, pylib = "__NAME__", set(__TRUSTED__), os.path.realpath("__PYLIB__")
    ip = get_ipython()
    cell_dir = os.path.dirname(ip.compile.get_code_name("", None, 0))
    hits = []
    builtins_before = dict(vars(builtins))
    volatile = {"_", "__", "___", "input", "raw_input"}  # ipykernel swaps input() per request
    watched = {"numpy", "numpy.testing", "torch", "torch.testing", "torch.nn", "torch.nn.functional", "math",
               "operator", "unittest", "unittest.case", "sklearn", "sklearn.preprocessing", "solutions"}

    def student_cell():
        frame = sys._getframe(2)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith(cell_dir):
                entry = linecache.cache.get(filename)
                text = "".join(entry[2]) if entry else ""
                if hashlib.sha256(text.encode()).hexdigest() not in trusted:
                    return True
            frame = frame.f_back
        return False

    def protected(path):
        try:
            path = os.fsdecode(path)
        except TypeError:
            return False
        lower = path.lower()
        return (os.path.realpath(path).startswith(pylib + os.sep) or "gradebook" in lower
                or lower.endswith(".db"))

    def where(path):
        path = os.fsdecode(path)
        real = os.path.realpath(path)
        return os.path.relpath(real, pylib) if real.startswith(pylib + os.sep) else path

    def hook(event, args):
        if event == "import":
            module = args[0]
            if (module == "solutions" or str(module).startswith("solutions.")) and student_cell():
                hits.append(f"student code imported {module}")
        elif event == "open" and args and isinstance(args[0], (str, bytes)) and protected(args[0]):
            if "__pycache__" not in os.fsdecode(args[0]) and student_cell():
                hits.append(f"student code opened {where(args[0])}")

    def notebook_made(obj):
        try:  # some objects compute attributes on access (torch.ops raises for unknown names)
            target = obj.func if isinstance(obj, functools.partial) else obj
            return getattr(target, "__module__", None) == "__main__"
        except Exception:
            return False

    def check():
        with warnings.catch_warnings():  # reading module attributes may warn (deprecated aliases)
            warnings.simplefilter("ignore")
            return inspect_state()

    def inspect_state():
        found = list(dict.fromkeys(hits))
        for key, value in vars(builtins).items():
            if key not in volatile and builtins_before.get(key, value) is not value:
                found.append(f"builtins.{key} was replaced")
        for modname in sorted(sys.modules):
            if modname not in watched and not modname.startswith("solutions."):
                continue
            module = sys.modules.get(modname)
            if module is None:
                continue
            if modname.split(".")[0] == "solutions":
                origin = os.path.realpath(getattr(module, "__file__", "") or "")
                if not origin.startswith(pylib + os.sep):
                    found.append(f"module {modname} does not come from the reference package")
            try:
                items = list(vars(module).items())
            except TypeError:
                continue
            for key, value in items:
                if notebook_made(value):
                    found.append(f"{modname}.{key} was replaced by notebook code")
        if ip.custom_exceptions:
            found.append("a custom exception handler was installed in the shell")
        for event, callbacks in ip.events.callbacks.items():
            if any(notebook_made(cb) for cb in callbacks):
                found.append(f"a notebook function was registered on the shell's {event} event")
        for attr in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            if any(notebook_made(t) for t in getattr(ip, attr, [])):
                found.append(f"a notebook transformer was added to the shell's {attr}")
        if any(notebook_made(v) for k, v in vars(ip).items() if k != "ask_exit"):  # ask_exit: the grader's
            found.append("a method of the shell was replaced by notebook code")
        if notebook_made(sys.excepthook) or notebook_made(sys.displayhook):
            found.append("sys.excepthook or sys.displayhook was replaced by notebook code")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            found.append("a trace or profile function is active")
        if any(notebook_made(x) for x in list(sys.meta_path) + list(sys.path_hooks)):
            found.append("an import hook was installed")
        found = list(dict.fromkeys(found))
        return found if len(found) <= 6 else found[:5] + [f"and {len(found) - 5} more"]

    sys.addaudithook(hook)
    module = types.ModuleType(name)
    module.check = check
    sys.modules[name] = module

__autograder_guard()
del __autograder_guard
'''


def guard_code(name, trusted, pylib):
    return (GUARD.replace("__NAME__", name).replace("__TRUSTED__", repr(list(trusted)))
            .replace("__PYLIB__", str(pylib)))
