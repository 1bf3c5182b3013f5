"""Reading the repository's Markdown pages as a reader's tools do: their links, headings and shell snippets."""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The front door and the docs pages (the guides in docs/guides are rendered and checked by the docs site's build).
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "guides" not in p.parts)]

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def prose(text: str) -> str:
    """The page without its fenced code blocks (a link or heading inside a snippet is not one)."""
    return _FENCE.sub("", text)


def links(text: str) -> list[str]:
    return _LINK.findall(prose(text))


def anchors(text: str) -> set[str]:
    """The fragment ids GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens,
    repeats numbered."""
    seen: dict[str, int] = {}
    ids = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose(text), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        ids.add(slug if count == 0 else f"{slug}-{count}")
    return ids


def shell_commands(text: str) -> list[list[str]]:
    """Every command of the page's `sh` blocks, split into words as the shell would (comments dropped, `&&` chains
    split into their commands)."""
    commands = []
    for language, block in _FENCE.findall(text):
        if language not in {"sh", "bash", "shell", "console"}:
            continue
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            command: list[str] = []
            for word in [*words, "&&"]:
                if word == "&&":
                    if command:
                        commands.append(command)
                    command = []
                else:
                    command.append(word)
    return commands


def fenced_languages(text: str) -> list[str]:
    return [language for language, _block in _FENCE.findall(text)]
