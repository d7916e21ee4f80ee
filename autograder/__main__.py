"""``python -m autograder <command>``: dispatch to one module per command."""

import argparse
import importlib
import sys

# command name -> module implementing add_arguments(parser) and run(args)
COMMANDS = {
    "release": "autograder.release",
    "grade": "autograder.grade",
    "report": "autograder.report",
    "demo": "autograder.demo",
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue  # command not built yet
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=module.__doc__.strip().splitlines()[0]))
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
