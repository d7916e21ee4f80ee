"""``python -m coursebook <command>``: the book's build and its translations.

    python -m coursebook conf DIR              # DIR/conf.py from _config.yml, for sphinx-build
    python -m coursebook build --conf DIR      # every edition into _build/html/<code>/, and the front page
    python -m coursebook update --pot-dir D    # exercise templates into D, then update locales/
    python -m coursebook stats                 # translated / fuzzy / untranslated per catalog
    python -m coursebook editions              # the edition codes, the source first
"""

import argparse
import sys
from pathlib import Path

from coursebook import book, translation
from coursebook.editions import codes


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m coursebook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("conf", help="write DIR/conf.py for sphinx-build from _config.yml")
    conf.add_argument("dir", type=Path)
    build = sub.add_parser("build", help="build every edition with sphinx-build, then the front page")
    build.add_argument("--conf", type=Path, required=True, help="the folder of conf.py (see `conf`)")
    build.add_argument("--out", type=Path, default=Path("_build"), help="build folder (default: _build)")
    build.add_argument("--dry-run", action="store_true", help="print the sphinx-build commands only")
    upd = sub.add_parser("update", help="exercise templates + sphinx-intl update of locales/")
    upd.add_argument("--pot-dir", type=Path, required=True, help="sphinx-build -b gettext output")
    sub.add_parser("stats", help="translated / fuzzy / untranslated messages per catalog")
    sub.add_parser("editions", help="the edition codes, the source first")
    args = parser.parse_args(argv)
    if args.command == "conf":
        print(book.write_sphinx_conf(args.dir))
        return 0
    if args.command == "build":
        return book.build(args.conf, args.out, dry_run=args.dry_run)
    if args.command == "editions":
        print(" ".join(codes()))
        return 0
    if args.command == "update":
        translation.update(args.pot_dir)
    for language in translation.languages():
        for domain, (done, fuzzy, todo) in translation.stats(language).items():
            print(f"{language}/{domain}: {done} translated, {fuzzy} fuzzy, {todo} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
