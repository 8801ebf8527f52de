"""`python -m afroadv.build [what ...]`: rebuild shipped resources from ../shared/data (maintainers)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from afroadv.build.letters import build_letters
    from afroadv.build.variants import build_variants
    from afroadv.build.words import build_words
    from afroadv.lexicons.build import build_all as build_lexicons

    # order matters: lexicons leave out the function, number and name words the words build finds
    builders = {"words": build_words, "lexicons": build_lexicons, "letters": build_letters, "variants": build_variants}
    wanted = argv or list(builders)
    unknown = [w for w in wanted if w not in builders]
    if unknown:
        sys.exit(f"unknown build(s) {', '.join(unknown)}; known: {', '.join(builders)}")
    for name in wanted:
        m = builders[name]()
        print(f"{name}: {len(m['files'])} files")


if __name__ == "__main__":
    main(sys.argv[1:])
