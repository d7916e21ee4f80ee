"""``autograder <command>`` (or ``python -m autograder <command>``): dispatch to one module per command."""

import argparse
import importlib
import sys

# command name -> (module implementing add_arguments(parser) and run(args), one-line help)
COMMANDS = {
    "release": ("autograder.authoring.release", "generate the student version of every chapter and check for leaks"),
    "grade": ("autograder.grading.command", "grade a class in parallel: feedback, gradebook, grades.csv and report"),
    "report": ("autograder.grading.report", "re-render the class report from the gradebook"),
    "mistakes": ("autograder.grading.unexplained", "group the class's undiagnosed failures by their verdict "
                 "(where the catalogue of mistakes should grow)"),
    "feedback": ("autograder.grading.refresh", "after manual grading: late penalties, feedback pages, CSVs and "
                 "report again from the gradebook"),
    "demo": ("autograder.authoring.demo", "build a demo class from the source notebooks and grade it"),
    "toc": ("autograder.authoring.toc", "write the book's table of contents from the chapter declarations"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    # Only the chosen command's module is imported (grading libraries take seconds to import):
    # a usage error or `--help` answers at once.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text)
        if name == chosen:
            modules[name] = importlib.import_module(module_name)
            modules[name].add_arguments(sub_parser)
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
