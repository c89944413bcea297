#!/usr/bin/env python3
"""A man page and its program's --help name the same flags: every flag
--help shows is documented, and the page documents no flag the program
lacks. TAP output.
usage: check_man.py PROGRAM MANPAGE [PROGRAM MANPAGE ...]"""
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def flags_of_help(prog):
    out = subprocess.run([prog, "--help"], capture_output=True, text=True, timeout=10)
    return set(FLAG.findall(out.stdout + out.stderr))


def flags_of_man(path):
    text = open(path, encoding="utf-8").read().replace("\\-", "-")
    return set(FLAG.findall(text))


def main(args):
    pairs = list(zip(args[0::2], args[1::2]))
    print(f"1..{2 * len(pairs)}")
    n, ok_all = 0, True
    for prog, man in pairs:
        name = prog.rsplit("/", 1)[-1]
        helped, documented = flags_of_help(prog), flags_of_man(man)
        for what, missing in (("every_help_flag_is_in_the_man_page", helped - documented),
                              ("the_man_page_has_no_flag_the_program_lacks", documented - helped)):
            n += 1
            ok = bool(helped) and not missing
            ok_all &= ok
            print(f"{'ok' if ok else 'not ok'} {n} - {name}: {what}")
            if missing:
                print(f"# {name}: {' '.join(sorted(missing))} (man page {man})")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
