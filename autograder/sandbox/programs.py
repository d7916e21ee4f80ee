"""Command lines for the sandbox's own programs (the launcher, the fork server), which run where the
repository is not importable: ``python -I -c SOURCE``, with :mod:`autograder.sandbox.linux` installed
under its own name first, so each program imports it as any module does."""

import sys
from pathlib import Path

HERE = Path(__file__).parent
SHARED = ("autograder.sandbox.linux",)

_BOOT = """\
import sys, types
def _install(name, source):
    parts = name.split(".")
    for depth in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:depth]), types.ModuleType(".".join(parts[:depth])))
    module = types.ModuleType(name)
    exec(compile(source, name.replace(".", "/") + ".py", "exec"), module.__dict__)
    sys.modules[name] = module
    setattr(sys.modules[".".join(parts[:-1])], parts[-1], module)
"""


def source(program):
    """The ``-c`` source that runs ``autograder/sandbox/<program>.py`` as ``__main__``."""
    lines = [_BOOT]
    for name in SHARED:
        text = (HERE / f"{name.rsplit('.', 1)[-1]}.py").read_text(encoding="utf-8")
        lines.append(f"_install({name!r}, {text!r})")
    lines.append("del _install, sys, types")
    lines.append((HERE / f"{program}.py").read_text(encoding="utf-8"))
    return "\n".join(lines)


def command(program, *args):
    return [sys.executable, "-I", "-c", source(program), *map(str, args)]
