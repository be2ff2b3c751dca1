"""JSON with comments and trailing commas (VS Code's `mcp.json`, other clients' config files).

`loads` reads such a file; `set_member` changes one member in the text itself, so the user's comments,
order and layout survive a merge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_WHITESPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.DOTALL)
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_SAME_LINE = re.compile(r"(?:[ \t]+|/\*(?:(?!\*/)[^\n])*\*/|//[^\n]*)*")
_LITERALS = {"true": True, "false": False, "null": None}


class JsoncError(ValueError):
    def __init__(self, message: str, text: str, position: int) -> None:
        self.line = text.count("\n", 0, position) + 1
        super().__init__(f"{message} (line {self.line})")


@dataclass
class _Node:
    start: int
    end: int
    value: Any
    members: dict[str, _Node] = field(default_factory=dict)
    """For objects: member name -> value node."""
    first_key_start: int | None = None
    """For objects: where the first member's name starts (its line's indentation is the members')."""
    last_member_end: int | None = None
    """For objects: where the last member's value ends (None when empty)."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        match = _WHITESPACE.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        if self.text.startswith("/*", self.pos):
            raise JsoncError("unterminated comment", self.text, self.pos)

    def fail(self, message: str) -> JsoncError:
        return JsoncError(message, self.text, self.pos)

    def document(self) -> _Node:
        self.skip()
        node = self.value()
        self.skip()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the JSON value")
        return node

    def value(self) -> _Node:
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of file")
        char = self.text[self.pos]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char == '"':
            start = self.pos
            text = self.string()
            return _Node(start, self.pos, text)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                start, self.pos = self.pos, self.pos + len(word)
                return _Node(start, self.pos, literal)
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return _Node(match.start(), match.end(), json.loads(match.group()))
        raise self.fail("unexpected character")

    def string(self) -> str:
        try:  # json.decoder.scanstring is in the standard library, not in typeshed
            scanned: tuple[str, int] = json.decoder.scanstring(self.text, self.pos + 1)  # type: ignore[attr-defined]
        except json.JSONDecodeError:
            raise self.fail("invalid string") from None
        value, self.pos = scanned
        return value

    def object(self) -> _Node:
        node = _Node(self.pos, self.pos, {})
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                break
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a member name in double quotes")
            if node.first_key_start is None:
                node.first_key_start = self.pos
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail('expected ":" after a member name')
            self.pos += 1
            self.skip()
            member = self.value()
            node.value[key] = member.value
            node.members[key] = member
            node.last_member_end = member.end
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self.skip()
            if not self.text.startswith("}", self.pos):
                raise self.fail('expected "," or "}"')
            break
        self.pos += 1
        node.end = self.pos
        return node

    def array(self) -> _Node:
        node = _Node(self.pos, self.pos, [])
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                break
            node.value.append(self.value().value)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            if not self.text.startswith("]", self.pos):
                raise self.fail('expected "," or "]"')
            break
        self.pos += 1
        node.end = self.pos
        return node


def loads(text: str) -> Any:
    """Parse JSON that may have `//` and `/* */` comments and trailing commas."""
    return _Parser(text).document().value


def set_member(text: str, path: list[str], value: Any) -> str:
    """`text` with the member at `path` (object keys from the top) set to `value`, everything else kept as it
    was. Missing objects on the way are created; the top level must be an object."""
    if not text.strip():
        text = "{}\n"
    parser = _Parser(text)
    node = parser.document()
    if not isinstance(node.value, dict):
        raise JsoncError("the file does not hold a JSON object", text, node.start)
    depth = 0
    for position, key in enumerate(path):
        if not isinstance(node.value, dict):
            raise JsoncError(f'"{".".join(path[:position])}" is not a JSON object', text, node.start)
        depth += 1
        if key in node.members:
            if position == len(path) - 1:
                member = node.members[key]
                return (
                    text[: member.start] + _dump(value, _indent_of(text, member.start, depth - 1)) + text[member.end :]
                )
            node = node.members[key]
            continue
        nested: Any = value
        for inner in reversed(path[position + 1 :]):
            nested = {inner: nested}
        return _insert(text, node, key, nested, depth)
    raise ValueError("empty path")


def _insert(text: str, node: _Node, key: str, value: Any, depth: int) -> str:
    """Add `"key": value` as the last member of the object `node`, after any comment on the last member's line."""
    member_line = f"{json.dumps(key)}: "
    if node.last_member_end is None:
        outer = _indent_of(text, node.start, 0) if depth > 1 else ""
        indent = outer + "  "
        member = member_line + _dump(value, indent)
        return text[: node.start] + "{\n" + indent + member + "\n" + outer + "}" + text[node.end :]
    indent = _member_indent(text, node, depth)
    member = member_line + _dump(value, indent)
    end = node.last_member_end
    comma = _comma_outside_comments(text[end : node.end - 1])
    if comma is not None:  # a trailing comma is already there: the new member gets one too
        after = _SAME_LINE.match(text, end + comma + 1).end()  # type: ignore[union-attr]
        return text[:after] + "\n" + indent + member + "," + text[after:]
    after = _SAME_LINE.match(text, end).end()  # type: ignore[union-attr]
    return text[:end] + "," + text[end:after] + "\n" + indent + member + text[after:]


def _comma_outside_comments(between: str) -> int | None:
    """Offset of the first comma in `between` that is not inside a comment, if it comes before anything else."""
    match = _WHITESPACE.match(between)
    position = match.end() if match else 0
    return position if between[position : position + 1] == "," else None


def _member_indent(text: str, node: _Node, depth: int) -> str:
    if node.first_key_start is not None:
        line_start = text.rfind("\n", 0, node.first_key_start) + 1
        prefix = text[line_start : node.first_key_start]
        if prefix and not prefix.strip():
            return prefix
    return "  " * depth


def _indent_of(text: str, position: int, depth: int) -> str:
    line_start = text.rfind("\n", 0, position) + 1
    line = text[line_start:position]
    return line[: len(line) - len(line.lstrip())] or "  " * depth


def _dump(value: Any, indent: str) -> str:
    """`value` as indented JSON whose continuation lines start at `indent`."""
    unit = "\t" if indent.startswith("\t") else "  "
    return json.dumps(value, indent=unit).replace("\n", "\n" + indent)
