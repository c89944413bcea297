"""The markings run_docs.py reads in Markdown: runnable blocks with their
expected output, and the blocks that start or restart the server. Parsing
only; nothing here runs anything. Python 3 standard library only."""
import re
import shlex

FENCE = re.compile(r"^( {0,3})(```+|~~~+)\s*(.*)$")  # indented up to 3 (in a list item)
SERVER_ARGS = re.compile(r"<!--\s*docs-runner:\s*server-args\s+(.*?)\s*-->")
KNOWN_ATTRS = {"timeout", "exit", "requires"}
# The commands a `sh server` block may show; the runner starts the same
# server with the same flags (demo.sh adds --web-root, as the script does).
SERVER_COMMANDS = ("scripts/demo.sh", "pushlab-server")
RUNNER_FLAGS = ("--http-port", "--ws-port", "--bind")


class Block:
    """One runnable (or server) block and what it promises."""

    def __init__(self, path, line, code, attrs, kind="runnable"):
        self.path, self.line, self.code, self.attrs = path, line, code, attrs
        self.kind = kind  # "runnable" or "server"
        self.expect_kind = None  # None, "output" or "regex"
        self.expect = ""
        self.problem = None  # a marking error, reported as a failure
        self.server_cmd = ""  # for kind "server": the command it shows
        self.server_args = []  # and its flags

    @property
    def name(self):
        return "%s:%d" % (self.path, self.line)


def parse_fences(lines):
    """Yields (start_line, info, body, end_line) per fenced block, 1-based.
    A fence indented inside a list item loses that indentation in its body."""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info, start = m.group(1), m.group(2), m.group(3).strip(), i + 1
        body = []
        i += 1
        while i < len(lines) and not lines[i].lstrip(" ").startswith(fence):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip(" "))
            i += 1
        yield start, info, "\n".join(body), i + 1
        i += 1


def parse_attrs(words):
    attrs, bad = {}, []
    for w in words:
        key, sep, value = w.partition("=")
        if not sep or key not in KNOWN_ATTRS:
            bad.append(w)
        else:
            attrs[key] = value
    return attrs, bad


def server_command(code):
    """(command, flags) of the one server command in a `sh server` block,
    or raises ValueError saying what is wrong with it."""
    lines = [l.split("#", 1)[0].strip() for l in code.split("\n")]
    lines = [l for l in lines if l]
    if len(lines) != 1:
        raise ValueError("a server block holds exactly one command, got %d" % len(lines))
    words = shlex.split(lines[0])
    for i, w in enumerate(words):
        if w.endswith(SERVER_COMMANDS):
            args = words[i + 1:]
            taken = [a for a in args if a.split("=", 1)[0] in RUNNER_FLAGS]
            if taken:
                raise ValueError("the runner chooses %s itself" % " ".join(taken))
            return w, args
    raise ValueError("not a server command (%s): %s" % (" or ".join(SERVER_COMMANDS), lines[0]))


def parse_doc(path, display):
    """Returns (blocks, hidden_server_args) for one Markdown file, blocks in
    document order; hidden_server_args come from a docs-runner comment."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    m = SERVER_ARGS.search(text)
    hidden = shlex.split(m.group(1)) if m else None
    blocks, last, last_end = [], None, -1
    for start, info, body, end in parse_fences(lines):
        words = info.split()
        is_sh = len(words) >= 2 and words[0] in ("sh", "bash")
        if is_sh and words[1] in ("runnable", "server"):
            attrs, bad = parse_attrs(words[2:])
            last = Block(display, start, body, attrs, words[1])
            if bad:
                last.problem = "unknown marking: " + " ".join(bad)
            if words[1] == "server":
                try:
                    last.server_cmd, last.server_args = server_command(body)
                except ValueError as e:
                    last.problem = str(e)
            blocks.append(last)
            last_end = end
            continue
        kind = words[0] if words else ""
        between = lines[last_end:start - 1] if last else []
        # Blank lines, or an HTML comment (a figures marker), may sit between.
        if last and kind in ("output", "regex") and all(
                not l.strip() or re.fullmatch(r"\s*<!--.*-->\s*", l) for l in between):
            last.expect_kind, last.expect = kind, body
        last = None
    return blocks, hidden


def ellipsis_match(expected, got):
    """True when `got` equals `expected`, where `...` matches any text.
    Trailing blanks on each line and blank lines at the ends are ignored."""

    def norm(s):
        return "\n".join(l.rstrip() for l in s.strip("\n").split("\n")).strip("\n")

    parts = [re.escape(p) for p in norm(expected).split("...")]
    return re.fullmatch(".*?".join(parts), norm(got), re.DOTALL) is not None


def check_output(block, got):
    """Returns None when the output is as promised, else a reason."""
    if block.expect_kind == "output" and not ellipsis_match(block.expect, got):
        return "output differs"
    if block.expect_kind == "regex" and not re.search(block.expect, got, re.MULTILINE):
        return "regex did not match"
    return None
