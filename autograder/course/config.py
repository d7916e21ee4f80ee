"""The course's nbgrader configuration and nbgrader's own preprocessor chains, as the course configures them.

The grader never re-implements what nbgrader does to a notebook: the student version is what
``nbgrader generate_assignment`` writes, an assignment is registered in a gradebook by nbgrader's own
chain up to ``SaveCells``, submissions are sanitized by ``Autograde``'s chain, and late penalties are
nbgrader's ``AssignLatePenalties`` with the course's plugin. Each reads the course's
``nbgrader_config.py`` (next to ``source/``): the course id, the gradebook it names, the students it
excludes, the late-penalty plugin and its method. The grader's output folder is made an nbgrader course
of its own by :func:`write_course_folder_config`, which loads the course's file.
"""

import json
import os
from pathlib import Path

import nbformat
from nbgrader.converters.autograde import Autograde
from nbgrader.converters.generate_assignment import GenerateAssignment
from nbgrader.preprocessors import AssignLatePenalties, SaveCells
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from autograder.common.fileio import atomic_write

CONFIG_NAME = "nbgrader_config.py"
DEFAULT_COURSE_ID = "default_course"  # nbgrader's Gradebook's when the config names no course


def config_path(source_dir):
    """Where the course's ``nbgrader_config.py`` is: its course root, the parent of ``source/``."""
    return Path(source_dir).resolve().parent / CONFIG_NAME


def course_config(source_dir):
    """The course's ``nbgrader_config.py`` (next to ``source/``) as a traitlets Config."""
    path = config_path(source_dir)
    if not path.is_file():
        return Config()
    return PyFileConfigLoader(path.name, str(path.parent)).load_config()


def course_id(config):
    """The course id the config names (``CourseDirectory.course_id``; nbgrader's default otherwise)."""
    return (config.CourseDirectory.get("course_id", "") if config is not None else "") or DEFAULT_COURSE_ID


def configured_db_url(config):
    """The gradebook the config names (``CourseDirectory.db_url``), or ``""``."""
    return str(config.CourseDirectory.get("db_url", "") or "") if config is not None else ""


def excluded_students(config):
    """Student ids nbgrader's commands skip (``CourseDirectory.student_id_exclude``, comma-separated)."""
    text = str(config.CourseDirectory.get("student_id_exclude", "") or "") if config is not None else ""
    return {s.strip() for s in text.split(",") if s.strip()}


def late_penalties(config):
    """nbgrader's ``AssignLatePenalties`` as the course configures it (its ``plugin_class``, e.g.
    ``LateSubmissionPlugin`` with ``penalty_method``), or None when the course's ``Autograde``
    chain leaves it out (then nbgrader's autograde assigns no penalty either)."""
    for item in configured(Autograde, "autograde_preprocessors", config):
        cls = import_item(item) if isinstance(item, str) else item
        if isinstance(cls, type) and issubclass(cls, AssignLatePenalties):
            return cls(config=config if config is not None else Config())
    return None


def describe_late_policy(preprocessor):
    """One line on how late work is penalized, e.g. ``LateSubmissionPlugin, penalty_method='zero'``."""
    if preprocessor is None:
        return "none (AssignLatePenalties is not in the course's Autograde.autograde_preprocessors)"
    preprocessor.init_plugin()
    plugin = preprocessor.plugin_inst
    method = getattr(plugin, "penalty_method", None)
    return type(plugin).__name__ + (f", penalty_method={method!r}" if method is not None else "")


def configured(converter, trait, config):
    """A converter's preprocessor list as the course configures it (nbgrader's default otherwise)."""
    section = config.get(converter.__name__, {}) if config is not None else {}
    return list(section[trait]) if trait in section else list(converter.class_traits()[trait].default())


def generate_chain(config):
    """nbgrader generate_assignment's preprocessors, up to and including SaveCells."""
    chain = configured(GenerateAssignment, "preprocessors", config)
    return [cls(config=config) for cls in chain[: chain.index(SaveCells) + 1]]


def release_version(source_path, config=None):
    """The student version of a source notebook, as ``nbgrader generate_assignment`` writes it."""
    nb = nbformat.read(str(source_path), as_version=4)
    resources = {"nbgrader": {}}
    for cls in configured(GenerateAssignment, "preprocessors", config):
        if cls is not SaveCells:  # needs a database; records nothing the student version shows
            nb, resources = cls(config=config or Config()).preprocess(nb, resources)
    return nb


def register(db_url, assignment_id, source_nb, config):
    """Record ``source_nb`` as assignment ``assignment_id`` in the gradebook at ``db_url``, as nbgrader does."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id(config)) as gb:  # as generate_assignment: the course's id
        gb.update_or_create_assignment(assignment_id, course_id=course_id(config))
    nb = nbformat.from_dict(json.loads(json.dumps(source_nb)))
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment_id, "notebook": assignment_id,
                              "student": "."}, "unique_key": assignment_id}
    for pp in generate_chain(config):
        nb, resources = pp.preprocess(nb, resources)


GENERATED = "# Written by `autograder grade` (rewritten at each run): edit the course's nbgrader_config.py instead."


def write_course_folder_config(out, source_dir, db_url=None):
    """Make the output folder ``out`` an nbgrader course root: a ``nbgrader_config.py`` that loads the
    course's own (course id, late penalties, exchange, ...) and points nbgrader at this folder and the
    course's ``source/``. nbgrader's commands run there as in any course (``nbgrader release_feedback``,
    ``nbgrader export``, ``nbgrader db ...``, the formgrader).

    Nothing is written where ``out`` has a config that is not the grader's (``--out`` is the course
    root itself); returns the path written, or None. ``db_url`` (a gradebook elsewhere than
    ``out/gradebook.db``) is written unless it holds a password.
    """
    out = Path(out).resolve()
    target = out / CONFIG_NAME
    if target.exists() and GENERATED not in target.read_text(encoding="utf-8", errors="replace"):
        return None
    course = config_path(source_dir)
    lines = [GENERATED,
             '"""nbgrader configuration of a grading folder: submitted/, autograded/, feedback/ and its gradebook."""',
             "import os", "import sys", "",
             "c = get_config()  # noqa: F821 (provided by nbgrader)",
             "HERE = os.path.dirname(os.path.abspath(__file__))",
             "# nbgrader runs the `alembic` command of its own environment when it creates or upgrades a gradebook",
             'BIN = os.path.dirname(sys.executable)  # first on PATH, once: nbgrader may load this file often',
             'REST = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in ("", BIN)]',
             'os.environ["PATH"] = os.pathsep.join([BIN, *REST])']
    if course.is_file():
        lines += ["# the course's settings first: course id, late penalties, exchange, markers",
                  f"load_subconfig(os.path.join(HERE, {os.path.relpath(course, out)!r}))  # noqa: F821"]
    source = os.path.relpath(Path(source_dir).resolve(), out)
    lines += ["c.CourseDirectory.root = HERE", f"c.CourseDirectory.source_directory = os.path.join(HERE, {source!r})"]
    if db_url and db_url != f"sqlite:///{out / 'gradebook.db'}":
        from sqlalchemy.engine import make_url

        if make_url(db_url).password:
            lines.append("# the gradebook has a password: give nbgrader's commands --CourseDirectory.db_url=...")
        else:
            lines.append(f"c.CourseDirectory.db_url = {db_url!r}")
    return atomic_write(target, "\n".join(lines) + "\n")
