"""The course's nbgrader configuration and nbgrader's own preprocessor chains, as the course configures them.

The grader never re-implements what nbgrader does to a notebook: the student version is what
``nbgrader generate_assignment`` writes, an assignment is registered in a gradebook by nbgrader's own
chain up to ``SaveCells``, and submissions are sanitized by ``Autograde``'s chain. Each reads the
course's ``nbgrader_config.py`` (next to ``source/``).
"""

import json
from pathlib import Path

import nbformat
from nbgrader.converters.generate_assignment import GenerateAssignment
from nbgrader.preprocessors import SaveCells
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


def course_config(source_dir):
    """The course's ``nbgrader_config.py`` (next to ``source/``) as a traitlets Config."""
    path = Path(source_dir).resolve().parent / "nbgrader_config.py"
    if not path.is_file():
        return Config()
    return PyFileConfigLoader(path.name, str(path.parent)).load_config()


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

    with Gradebook(db_url) as gb:
        gb.update_or_create_assignment(assignment_id)
    nb = nbformat.from_dict(json.loads(json.dumps(source_nb)))
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment_id, "notebook": assignment_id,
                              "student": "."}, "unique_key": assignment_id}
    for pp in generate_chain(config):
        nb, resources = pp.preprocess(nb, resources)
